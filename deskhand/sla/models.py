"""SLA policies (targets per priority, business hours, holidays) and each item's clock."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q


def _weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


class SlaPolicy(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # Business hours; `always` counts every minute (24/7).
    always = models.BooleanField(default=True)
    days = models.JSONField(default=_weekdays)
    start = models.TimeField(default=datetime.time(9))
    end = models.TimeField(default=datetime.time(17))
    time_zone = models.CharField(max_length=64, default="UTC")
    holidays = models.JSONField(default=list)  # ISO dates
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.PositiveSmallIntegerField()  # work.Priority
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["policy", "-priority"]
        constraints = [models.UniqueConstraint(fields=["policy", "priority"], name="sla_target_once")]

    def __str__(self) -> str:
        return f"{self.policy_id}:{self.priority}"


class ItemSla(models.Model):
    """An item's SLA clock: when the first response and the resolution are due, when they
    happened, and whether the clock stands (the item is pending on the customer)."""

    item = models.OneToOneField("work.Item", on_delete=models.CASCADE, related_name="sla_clock")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    first_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_minutes = models.PositiveIntegerField(default=0)  # working minutes the clock stood so far
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    at_risk_due = models.DateTimeField(null=True, blank=True)  # when the earliest unmet target is at risk
    at_risk_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Index: the breach sweep reads the running clocks in due order.
            models.Index(fields=["first_response_due"], name="sla_first_response_open_idx",
                         condition=Q(first_responded_at__isnull=True, first_response_breached_at__isnull=True,
                                     paused_at__isnull=True)),
            models.Index(fields=["resolution_due"], name="sla_resolution_open_idx",
                         condition=Q(resolved_at__isnull=True, resolution_breached_at__isnull=True,
                                     paused_at__isnull=True)),
            models.Index(fields=["at_risk_due"], name="sla_at_risk_idx",
                         condition=Q(at_risk_at__isnull=True, paused_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"SLA of item {self.item_id}"
