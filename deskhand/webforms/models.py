"""Web forms: a public page (or an iframe on the company's own site) that files a request."""

from __future__ import annotations

from django.db import models


class WebForm(models.Model):
    slug = models.SlugField(max_length=60, unique=True)  # its address: /forms/<slug>
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True)
    # The ticket (or task) custom fields it asks for, in order: [{"key": ..., "required": bool}].
    fields = models.JSONField(default=list, blank=True)
    item_kind = models.CharField(max_length=16, default="ticket")
    project = models.ForeignKey("work.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    enabled = models.BooleanField(default=True)
    require_sign_in = models.BooleanField(default=False)
    in_portal = models.BooleanField(default=False)  # offered on the portal's new-request page
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class FormSubmission(models.Model):
    """One submission, kept for an hour: the rate limit counts them per client."""

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="+")
    client = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["client", "created_at"], name="form_submission_client_idx")]

    def __str__(self) -> str:
        return f"submission to form {self.form_id} from {self.client}"
