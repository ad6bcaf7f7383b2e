from __future__ import annotations

from django.db import models


class TimeEntry(models.Model):
    """Time an agent spent on an item on one day."""

    item = models.ForeignKey("work.Item", on_delete=models.CASCADE, related_name="time_entries")
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="time_entries")
    minutes = models.PositiveIntegerField()
    date = models.DateField()
    note = models.CharField(max_length=500, blank=True)
    billable = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["item", "date"], name="time_item_idx"),
            # Index: a timesheet is one agent's or everyone's entries over a range of dates.
            models.Index(fields=["date", "agent"], name="time_date_idx"),
        ]
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.item_id} by {self.agent_id}"
