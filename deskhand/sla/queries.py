"""Reads of SLA clocks for the pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext

from deskhand.core.errors import Invalid
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


REPORT_BY = {"organization": "item__organization__name", "agent": "item__assignees__agent__email",
             "month": "month"}


def sla_report(by: str) -> list[dict[str, Any]]:
    """Breaches and attainment per organization, assigned agent or month (of the item's creation):
    clocks, first-response and resolution breaches, and the share of clocks with no breach."""
    if by not in REPORT_BY:
        raise Invalid("invalid_by", gettext("Report by organization, agent or month."), field="by")
    clocks = ItemSla.objects.order_by()
    if by == "month":
        clocks = clocks.annotate(month=TruncMonth("item__created_at"))
    key = REPORT_BY[by]
    rows = (clocks.values(key).annotate(
        clocks=Count("id", distinct=True),
        first_response_breached=Count("id", filter=Q(first_response_breached_at__isnull=False), distinct=True),
        resolution_breached=Count("id", filter=Q(resolution_breached_at__isnull=False), distinct=True),
        breached=Count("id", filter=Q(first_response_breached_at__isnull=False)
                       | Q(resolution_breached_at__isnull=False), distinct=True),
        met=Count("id", filter=Q(resolved_at__isnull=False, first_response_breached_at__isnull=True,
                                 resolution_breached_at__isnull=True), distinct=True),
    ).order_by(key))
    report = []
    for row in rows:
        label = row[key]
        if by == "month" and label is not None:
            label = label.strftime("%Y-%m")
        report.append({"key": label or ("No organization" if by == "organization" else "Nobody" if by == "agent"
                                        else ""),
                       "clocks": row["clocks"], "first_response_breached": row["first_response_breached"],
                       "resolution_breached": row["resolution_breached"], "breached": row["breached"],
                       "met": row["met"],
                       "attainment": round(100 * (row["clocks"] - row["breached"]) / row["clocks"], 1)
                       if row["clocks"] else None})
    return report


REPORT_COLUMNS = ("group", "clocks", "first_response_breached", "resolution_breached", "breached", "met",
                  "attainment_percent")


def report_rows(report: list[dict[str, Any]]) -> Iterator[list[Any]]:
    """The report as CSV rows, header first."""
    yield list(REPORT_COLUMNS)
    for row in report:
        yield [row["key"], row["clocks"], row["first_response_breached"], row["resolution_breached"],
               row["breached"], row["met"], row["attainment"]]
