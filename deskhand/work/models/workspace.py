"""What the agents' workspace remembers per agent: saved views of a list, which items an agent
has seen since a customer last wrote, and who is on an item page right now."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from deskhand.work.models.items import Item, Kind


class SavedView(models.Model):
    """A list's filters and sort, under a name: the agent's own, or shared with the whole team."""

    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=80)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shared = models.BooleanField(default=False)
    # The list's query string as a dict of strings (ItemFilters' fields and `sort`), checked when saved.
    query = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint("owner", "kind", Lower("name"), name="savedview_name_once")]
        indexes = [models.Index(fields=["kind", "shared"], name="savedview_kind_shared_idx")]

    def __str__(self) -> str:
        return self.name


class ItemSeen(models.Model):
    """When an agent last opened an item: a customer message after it is unread for that agent."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint("agent", "item", name="itemseen_once")]

    def __str__(self) -> str:
        return f"{self.agent_id} saw {self.item_id} at {self.seen_at:%Y-%m-%d %H:%M}"


class ItemPresence(models.Model):
    """An agent on an item page, renewed by the page every few seconds while it is open; a row
    older than a few heartbeats means the agent left. In the database, so every web process sees it."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    typing = models.BooleanField(default=False)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint("agent", "item", name="itempresence_once")]
        indexes = [
            # Index: who is on this item (the page), and on these items (a list page).
            models.Index(fields=["item", "seen_at"], name="itempresence_item_idx"),
            models.Index(fields=["seen_at"], name="itempresence_seen_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} on {self.item_id}"
