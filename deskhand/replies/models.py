"""Replying faster: canned responses and macros (shared, or personal to their owner), the reply
box's draft per agent and item, and the images pasted into it before it is sent."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from deskhand.work.models.messages import attachment_storage


class CannedResponseQuerySet(models.QuerySet["CannedResponse"]):
    def visible_to(self, agent_id: int | None) -> CannedResponseQuerySet:
        """The shared ones and the agent's own: a personal one is nobody else's business."""
        return self.filter(Q(owner__isnull=True) | Q(owner_id=agent_id))


class CannedResponse(models.Model):
    """A text an agent inserts into the reply box (`;shortcut` or the menu): Markdown with the
    placeholders of `replies.placeholders`, filled in for the item when inserted."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    shortcut = models.CharField(max_length=40, blank=True)
    # None: shared with the team (admins manage it); else the agent's own.
    owner = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CannedResponseQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(Lower("title"), name="canned_title_unique_shared", condition=Q(owner__isnull=True)),
            models.UniqueConstraint(Lower("title"), "owner", name="canned_title_unique_personal",
                                    condition=Q(owner__isnull=False)),
            models.UniqueConstraint(Lower("shortcut"), name="canned_shortcut_unique_shared",
                                    condition=Q(owner__isnull=True) & ~Q(shortcut="")),
            models.UniqueConstraint(Lower("shortcut"), "owner", name="canned_shortcut_unique_personal",
                                    condition=Q(owner__isnull=False) & ~Q(shortcut="")),
        ]
        indexes = [
            # Index: the reply box lists an agent's own canned responses (the shared ones by the null owner).
            models.Index(fields=["owner", "title"], name="canned_owner_title_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class MacroQuerySet(models.QuerySet["Macro"]):
    def visible_to(self, agent_id: int | None) -> MacroQuerySet:
        return self.filter(Q(owner__isnull=True) | Q(owner_id=agent_id))


class Macro(models.Model):
    """A reply (optional) and property changes applied to a ticket in one click. `actions` are
    automation actions as stored by automations.stored (assign, set_status, …), performed by the
    automation engine's code with the agent as actor."""

    name = models.CharField(max_length=200)
    reply = models.TextField(blank=True)
    actions = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MacroQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="macro_name_unique_shared", condition=Q(owner__isnull=True)),
            models.UniqueConstraint(Lower("name"), "owner", name="macro_name_unique_personal",
                                    condition=Q(owner__isnull=False)),
        ]
        indexes = [
            # Index: the item page lists an agent's own macros (the shared ones by the null owner).
            models.Index(fields=["owner", "name"], name="macro_owner_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ReplyDraft(models.Model):
    """What an agent is writing on an item, kept while typing: it survives a reload and another
    machine, and is removed when the reply is sent."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("work.Item", on_delete=models.CASCADE, related_name="+")
    body = models.TextField(blank=True)
    # The Cc and Bcc boxes as typed (checked when the reply is sent, not while it is written).
    cc = models.CharField(max_length=2000, blank=True)
    bcc = models.CharField(max_length=2000, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "item"], name="reply_draft_once")]

    def __str__(self) -> str:
        return f"draft of {self.agent_id} on {self.item_id}"


class PastedImage(models.Model):
    """An image pasted into the reply box, kept until the reply is sent: then it becomes an inline
    attachment of the message (`cid:` in the mail's HTML)."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("work.Item", on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    file = models.FileField(storage=attachment_storage, upload_to="pasted/%Y/%m/", max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Index: sending a reply takes the images its author pasted on the item.
            models.Index(fields=["agent", "item"], name="pasted_agent_item_idx"),
        ]

    def __str__(self) -> str:
        return self.name
