from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower


class Portfolio(models.Model):
    """A group of projects (a product line, a department, a customer segment)."""

    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="portfolio_name_unique_ci")]
        ordering = [Lower("name"), "id"]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """Holds folders and items; may sit in a portfolio and may belong to a customer organization."""

    name = models.CharField(max_length=200)
    portfolio = models.ForeignKey(Portfolio, null=True, blank=True, on_delete=models.SET_NULL, related_name="projects")
    organization = models.ForeignKey(
        "customers.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="projects"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="project_name_unique_ci")]
        ordering = [Lower("name"), "id"]

    def __str__(self) -> str:
        return self.name


class Folder(models.Model):
    name = models.CharField(max_length=200)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="folders")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint("project", Lower("name"), name="folder_name_unique_in_project")]
        ordering = [Lower("name"), "id"]

    def __str__(self) -> str:
        return self.name
