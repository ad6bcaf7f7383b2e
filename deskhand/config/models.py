from __future__ import annotations

from django.db import models


class Setting(models.Model):
    """One help-desk-wide setting an admin changes in the app or the API (not the environment)."""

    key = models.CharField(max_length=64, unique=True)
    value = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key
