"""Reads of SLA clocks for the pages."""

from __future__ import annotations

from typing import Any

from deskhand.sla.models import ItemSla
from deskhand.sla.services import sla_summary
from deskhand.work.models import Item

STATE_LABELS = {"running": "running", "paused": "paused (pending)", "at_risk": "at risk", "breached": "breached",
                "met": "met"}


def item_sla(item: Item) -> dict[str, Any] | None:
    """An item's SLA for its page: the summary, in words, and the next target due."""
    try:
        clock = item.sla_clock
    except ItemSla.DoesNotExist:
        return None
    summary = sla_summary(clock)
    assert summary is not None
    next_due, label = None, ""
    if clock.first_responded_at is None and clock.first_response_due is not None:
        next_due, label = clock.first_response_due, "first response"
    elif clock.resolved_at is None and clock.resolution_due is not None:
        next_due, label = clock.resolution_due, "resolution"
    return {**summary, "state_label": STATE_LABELS.get(str(summary["state"]), summary["state"]),
            "next_due": next_due if clock.paused_at is None else None, "next_label": label}
