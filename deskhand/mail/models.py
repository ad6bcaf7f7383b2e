from __future__ import annotations

from django.db import models


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    KEPT = "kept", "Kept in the outbox (no EMAIL_URL)"
    FAILED = "failed", "Failed"


class OutboundMessage(models.Model):
    """The outbox: a mail to send, written in the transaction of the change that caused it and
    delivered by a task after commit, so a rolled-back change never sends mail."""

    kind = models.CharField(max_length=32)
    item = models.ForeignKey("work.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound")
    message = models.ForeignKey(
        "work.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound"
    )
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=998)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    rfc_message_id = models.CharField(max_length=255, unique=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Index: the sender claims queued rows oldest first.
            models.Index(fields=["status", "id"], name="outbound_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {', '.join(self.to)}: {self.subject}"
