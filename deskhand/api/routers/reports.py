"""Reports: tickets created and solved per day, first-response and resolution times, the backlog;
for a period of local days (`from`, `to`, `tz`), optionally per organization, agent or channel."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from deskhand.reports import queries
from deskhand.reports.inputs import ReportPeriod, parse_group_by, parse_kind, parse_period

router = Router(tags=["reports"])


class ReportParams(Schema):
    model_config = ConfigDict(populate_by_name=True)

    start: str | None = Field(None, alias="from", max_length=32,
                              description="First day, YYYY-MM-DD (default: 29 days before `to`).")
    end: str | None = Field(None, alias="to", max_length=32, description="Last day, YYYY-MM-DD (default: today).")
    group_by: str = Field("none", max_length=16, description="organization, agent, channel or none.")
    kind: str = Field("ticket", max_length=8, description="ticket or task.")
    tz: str | None = Field(None, max_length=64,
                           description="IANA time zone of the days (default: the token's agent's, else UTC).")


class PeriodOut(Schema):
    start: datetime.date = Field(serialization_alias="from")
    end: datetime.date = Field(serialization_alias="to")
    tz: str


class DayOut(Schema):
    day: datetime.date
    created: int
    solved: int
    open: int


class VolumeGroupOut(Schema):
    key: str
    label: str
    created: int
    solved: int


class VolumeOut(Schema):
    period: PeriodOut
    group_by: str
    created: int
    solved: int
    open_before: int
    days: list[DayOut]
    groups: list[VolumeGroupOut]


class DurationsOut(Schema):
    count: int
    median_seconds: float | None
    p90_seconds: float | None


class TimesRowOut(Schema):
    key: str
    label: str
    tickets: int
    first_response: DurationsOut
    resolution: DurationsOut


class ResponseTimesOut(Schema):
    period: PeriodOut
    group_by: str
    total: TimesRowOut
    groups: list[TimesRowOut]


class StatusOut(Schema):
    key: str
    label: str
    category: str
    count: int


class BacklogGroupOut(Schema):
    key: str
    label: str
    counts: dict[str, int]
    total: int


class OpenDayOut(Schema):
    day: datetime.date
    open: int


class BacklogOut(Schema):
    period: PeriodOut
    group_by: str
    total: int
    statuses: list[StatusOut]
    groups: list[BacklogGroupOut]
    days: list[OpenDayOut]


def _period(request: HttpRequest, params: ReportParams) -> ReportPeriod:
    agent = getattr(request, "agent", None)  # set by the bearer-token check
    default_zone = getattr(agent, "time_zone", "") or settings.TIME_ZONE
    return parse_period(start=params.start, end=params.end, time_zone=params.tz, now=timezone.now(),
                        default_zone=default_zone)


def _period_out(period: ReportPeriod) -> dict[str, Any]:
    return {"start": period.start, "end": period.end, "tz": period.time_zone}


def _durations(durations: queries.Durations) -> dict[str, Any]:
    return {"count": durations.count, "median_seconds": durations.median, "p90_seconds": durations.p90}


def _times_row(row: queries.TimesRow) -> dict[str, Any]:
    return {"key": row.key, "label": row.label, "tickets": row.tickets,
            "first_response": _durations(row.first_response), "resolution": _durations(row.resolution)}


@router.get("/reports/volume", response=VolumeOut, by_alias=True)
def volume(request: HttpRequest, params: Query[ReportParams]) -> dict[str, Any]:
    """Tickets (or tasks) created and solved per day of the period and open at each day's end; grouped, the
    totals per organization, agent (assignee) or channel."""
    group_by = parse_group_by(params.group_by)
    report = queries.volume(_period(request, params), group_by, kind=parse_kind(params.kind))
    return {"period": _period_out(report.period), "group_by": group_by.value, "created": report.created,
            "solved": report.solved, "open_before": report.open_before,
            "days": [vars(day) for day in report.days], "groups": [vars(row) for row in report.groups]}


@router.get("/reports/response-times", response=ResponseTimesOut, by_alias=True)
def response_times(request: HttpRequest, params: Query[ReportParams]) -> dict[str, Any]:
    """Of the tickets created in the period: seconds to the first agent reply and to the solve,
    median and 90th percentile, overall and per group."""
    group_by = parse_group_by(params.group_by)
    report = queries.response_times(_period(request, params), group_by, kind=parse_kind(params.kind))
    return {"period": _period_out(report.period), "group_by": group_by.value, "total": _times_row(report.total),
            "groups": [_times_row(row) for row in report.groups]}


@router.get("/reports/backlog", response=BacklogOut, by_alias=True)
def backlog(request: HttpRequest, params: Query[ReportParams]) -> dict[str, Any]:
    """The open tickets now by status (overall and per group) and at the end of each day of the
    period."""
    group_by = parse_group_by(params.group_by)
    report = queries.backlog(_period(request, params), group_by, kind=parse_kind(params.kind))
    return {"period": _period_out(report.period), "group_by": group_by.value, "total": report.total,
            "statuses": [vars(status) for status in report.statuses],
            "groups": [vars(row) for row in report.groups],
            "days": [{"day": day.day, "open": day.open} for day in report.days]}
