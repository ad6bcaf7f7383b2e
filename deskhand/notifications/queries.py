"""Reads of an agent's notifications: the bell's count, the panel's list, the switches."""

from __future__ import annotations

from django.db.models import QuerySet

from deskhand.agents.models import Agent
from deskhand.notifications.models import DEFAULTS, Notification, NotificationSwitch

PANEL_SIZE = 15
# The bell says "99+" past this: counting further costs reads and tells nobody anything.
COUNT_CAP = 100


def unread_count(agent: Agent) -> int:
    """The agent's unread notifications, counted up to COUNT_CAP (the partial unread index)."""
    return Notification.objects.filter(agent=agent, read_at__isnull=True)[:COUNT_CAP].count()


def recent_notifications(agent: Agent, *, limit: int = PANEL_SIZE) -> QuerySet[Notification]:
    """The agent's latest notifications, newest first, with their items' titles."""
    return (Notification.objects.filter(agent=agent).select_related("item").only(
        "id", "event", "actor_label", "excerpt", "created_at", "read_at", "item__id", "item__kind", "item__title")
        .order_by("-id")[:limit])


def switches_of(agent: Agent) -> dict[tuple[str, str], bool]:
    """(event, channel) → on, for every event and channel: the agent's choice, else the default."""
    chosen = dict(DEFAULTS)
    for event, channel, enabled in NotificationSwitch.objects.filter(agent=agent).values_list(
            "event", "channel", "enabled"):
        if (event, channel) in chosen:
            chosen[(event, channel)] = enabled
    return chosen
