from __future__ import annotations

from django.db import models


class AppliesTo(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    ORGANIZATION = "organization", "Organization"
    TICKET = "ticket", "Ticket"
    TASK = "task", "Task"


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    BOOLEAN = "boolean", "Yes/no"
    CHOICE = "choice", "One of"
    MULTI_CHOICE = "multi_choice", "Many of"
    URL = "url", "URL"
    EMAIL = "email", "Email"


class CustomField(models.Model):
    """A field an admin adds to customers, organizations, tickets or tasks. Values live in the
    owner's `custom_fields` JSON under `key`."""

    applies_to = models.CharField(max_length=16, choices=AppliesTo.choices)
    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=FieldType.choices)
    required = models.BooleanField(default=False)
    choices = models.JSONField(default=list, blank=True)
    help_text = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["applies_to", "key"], name="custom_field_key_unique"),
        ]
        ordering = ["applies_to", "position", "id"]

    def __str__(self) -> str:
        return f"{self.applies_to}.{self.key}"
