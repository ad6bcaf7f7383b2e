from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One change: who (agent, API token, rule, system), what, on which record, old → new."""

    actor_kind = models.CharField(max_length=16)
    actor_label = models.CharField(max_length=300)
    actor_agent_id = models.BigIntegerField(null=True, blank=True)
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32)
    object_id = models.BigIntegerField(null=True, blank=True)
    object_label = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Index: a profile's history lists the events of one record, newest first.
            models.Index(fields=["object_type", "object_id", "-id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label}: {self.action} {self.object_type} {self.object_id}"
