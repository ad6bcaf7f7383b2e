"""What agents hear about: a notification per agent and item event (the bell), and each agent's
switches for each event and channel where they differ from the defaults."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned to me")
    TEAM_ASSIGNED = "team_assigned", _("Assigned to a team of mine")
    CUSTOMER_REPLIED = "customer_replied", _("A customer replied on an item I follow or am assigned to")
    MENTIONED = "mentioned", _("Mentioned in an internal note")
    SLA_AT_RISK = "sla_at_risk", _("An SLA of an item of mine is about to breach")


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("By email")


# All in the app; by mail what needs the agent even when the app is closed.
DEFAULTS: dict[tuple[str, str], bool] = {
    **{(event, Channel.IN_APP.value): True for event in Event.values},
    **{(event, Channel.EMAIL.value): event in (Event.ASSIGNED, Event.TEAM_ASSIGNED, Event.CUSTOMER_REPLIED)
       for event in Event.values},
}


class Notification(models.Model):
    """Something an agent should know about an item, shown under the bell until read."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.ForeignKey("work.Item", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=32, choices=Event.choices)
    # Who caused it, as the history names them (an agent's address, a customer's, a rule's name).
    actor_label = models.CharField(max_length=300, blank=True)
    # What it is about in a few words: the note around a mention, the team that was assigned.
    excerpt = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Index: the panel lists an agent's latest notifications (and the agent's foreign key).
            models.Index(fields=["agent", "-id"], name="notification_recent_idx"),
            # Index: the bell counts an agent's unread notifications every 20 seconds.
            models.Index(fields=["agent"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
            # Index: the retention sweep finds read notifications past their age, then unread ones.
            models.Index(fields=["created_at"], condition=Q(read_at__isnull=False), name="notification_read_age_idx"),
            models.Index(fields=["created_at"], condition=Q(read_at__isnull=True), name="notification_unread_age_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()}: #{self.item_id} for agent {self.agent_id}"


class NotificationSwitch(models.Model):
    """An agent's choice for one event on one channel; without a row the default holds."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+", db_index=False)
    event = models.CharField(max_length=32, choices=Event.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    enabled = models.BooleanField()

    class Meta:
        constraints = [
            # Also the index of the fan-out's read of the recipients' switches.
            models.UniqueConstraint(fields=["agent", "event", "channel"], name="notification_switch_once"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.channel} {'on' if self.enabled else 'off'} for agent {self.agent_id}"
