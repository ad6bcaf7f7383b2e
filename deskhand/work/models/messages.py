from __future__ import annotations

from typing import Any, cast

from django.core.files.storage import DefaultStorage, Storage, storages
from django.core.signals import setting_changed
from django.db import models
from django.utils.functional import empty


class _AttachmentStorage(DefaultStorage):
    """`storages["attachments"]`, looked up when first used (Django's lazy stand-in for the
    default storage, for another alias). A FileField calls a callable storage once, when its
    model class is made; this stand-in lets a change of STORAGES (a test's override) reach the
    model's files as it reaches every other use of the storage."""

    _wrapped: object

    def _setup(self) -> None:
        self._wrapped = storages["attachments"]


_storage = _AttachmentStorage()


def _storages_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "STORAGES":
        _storage._wrapped = empty


# Fired only by settings overrides (tests); Django resets its own storage cache the same way.
setting_changed.connect(_storages_changed)


def attachment_storage() -> Storage:
    """The `attachments` storage of settings.STORAGES: the data directory by default, object
    storage when an operator configures it (DESKHAND_STORAGE_URL)."""
    return cast(Storage, _storage)


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", "Customer message"
    REPLY = "reply", "Reply"
    NOTE = "note", "Internal note"


class Message(models.Model):
    """One entry of an item's conversation. Notes are never shown to customers."""

    item = models.ForeignKey("work.Item", on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=8, choices=MessageKind.choices)
    author_agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author_customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    author_email = models.CharField(max_length=254, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    # A mail's whole text, quoted history included, when `body` is the text with it stripped.
    full_body = models.TextField(blank=True)
    channel = models.CharField(max_length=8, default="web")
    # Who a reply went to, as addresses, at the moment it was sent.
    recipients = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Index: the item page reads one conversation in order.
            models.Index(fields=["item", "id"], name="message_item_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.item_id} by {self.author_email}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(storage=attachment_storage, upload_to="%Y/%m/", max_length=255)
    inline = models.BooleanField(default=False)
    content_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["message"], name="attachment_message_idx")]

    def __str__(self) -> str:
        return self.name
