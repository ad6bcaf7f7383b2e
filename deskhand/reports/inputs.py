"""Typed inputs of the reports: the period (local days in a time zone) and the grouping, parsed and
bounded once at the edge (web form, API query) with errors that name the field."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext

from deskhand.core.errors import Invalid

# A report covers at most about two years (731 days, a leap year and one more): every day is a
# point of the chart and a row of the CSV, and the queries read every ticket of the period.
MAX_DAYS = 731
EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2099, 12, 31)


class GroupBy(StrEnum):
    NONE = "none"
    ORGANIZATION = "organization"
    AGENT = "agent"
    CHANNEL = "channel"

    @property
    def label(self) -> str:
        return {"none": "No grouping", "organization": "Organization", "agent": "Agent",
                "channel": "Channel"}[self.value]


class Preset(StrEnum):
    LAST_7 = "7d"
    LAST_30 = "30d"
    LAST_90 = "90d"
    THIS_YEAR = "year"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return {"7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days", "year": "This year",
                "custom": "Custom"}[self.value]


@dataclass(frozen=True)
class ReportPeriod:
    """The local days `start` to `end`, both included, in `time_zone` (an IANA name)."""

    start: datetime.date
    end: datetime.date
    time_zone: str = "UTC"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def days(self) -> list[datetime.date]:
        return [self.start + datetime.timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The period as UTC moments: the first day's local midnight, up to (not including) the
        midnight after the last day."""
        return local_midnight(self.start, self.zone), local_midnight(self.end + datetime.timedelta(days=1), self.zone)


def local_midnight(day: datetime.date, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The moment `day` starts in `zone`, in UTC (a day that starts in a DST gap starts when the
    clocks jump: fold 0 gives the offset before the jump, which is the later moment)."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=zone).astimezone(datetime.UTC)


def parse_zone(value: str | None, *, default: str = "UTC", field: str = "tz") -> str:
    name = (value or "").strip() or default
    if len(name) > 64 or name.startswith("/") or ".." in name:
        raise Invalid("unknown_time_zone", gettext("The time zone is an IANA name such as Europe/Berlin."), field=field)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid("unknown_time_zone", f"“{name[:64]}” is not a time zone such as Europe/Berlin.",
                      field=field) from None
    return name


def parse_group_by(value: str | None, *, field: str = "group_by") -> GroupBy:
    try:
        return GroupBy((value or "none").strip())
    except ValueError:
        raise Invalid("invalid_group_by", gettext("Group by organization, agent, channel or none."), field=field) from None


def parse_kind(value: str | None, *, field: str = "kind") -> str:
    """Reports are of tickets (the default) or of tasks."""
    kind = (value or "ticket").strip()
    if kind not in ("ticket", "task"):
        raise Invalid("invalid_kind", gettext("Report on tickets or tasks."), field=field)
    return kind


def _date(value: str, *, field: str) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(value.strip()[:10]) if len(value.strip()) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise Invalid("invalid_date", gettext("A date is written YYYY-MM-DD."), field=field)
    if not EARLIEST <= day <= LATEST:
        raise Invalid("date_out_of_range", gettext("A date lies between %(value)s and %(value2)s.") % {"value": EARLIEST, "value2": LATEST}, field=field)
    return day


def preset_period(preset: Preset, *, today: datetime.date, time_zone: str) -> ReportPeriod:
    """A named period ending today (in the time zone); `this year` starts on 1 January."""
    if preset == Preset.THIS_YEAR:
        return ReportPeriod(today.replace(month=1, day=1), today, time_zone)
    days = {Preset.LAST_7: 7, Preset.LAST_30: 30, Preset.LAST_90: 90}.get(preset, 30)
    return ReportPeriod(today - datetime.timedelta(days=days - 1), today, time_zone)


def parse_period(*, start: str | None, end: str | None, time_zone: str | None, preset: str | None = None,
                 now: datetime.datetime, default_zone: str = "UTC") -> ReportPeriod:
    """The period a request asks for: a preset, or `from`/`to` dates (a missing `to` is today, a
    missing `from` 30 days before `to`), at most MAX_DAYS long, `from` not after `to`."""
    zone = parse_zone(time_zone, default=default_zone)
    today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
    chosen = (preset or "").strip()
    if chosen and chosen != Preset.CUSTOM:
        try:
            return preset_period(Preset(chosen), today=today, time_zone=zone)
        except ValueError:
            raise Invalid("invalid_preset", gettext("The period is 7d, 30d, 90d, year or custom."), field="preset") from None
    if not (start or "").strip() and not (end or "").strip():
        return preset_period(Preset.LAST_30, today=today, time_zone=zone)
    given = _date(start, field="from") if start and start.strip() else None
    last = _date(end, field="to") if end and end.strip() else today
    first = given or last - datetime.timedelta(days=29)
    if first > last:
        raise Invalid("from_after_to", gettext("The period's start is on or before its end."), field="from")
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid("period_too_long", gettext("A report covers at most %(value)s days.") % {"value": MAX_DAYS}, field="to")
    return ReportPeriod(first, last, zone)


def period_preset(period: ReportPeriod, *, now: datetime.datetime) -> Preset:
    """Which preset a period is (for the picker), or custom."""
    today = now.astimezone(period.zone).date()
    for preset in (Preset.LAST_7, Preset.LAST_30, Preset.LAST_90, Preset.THIS_YEAR):
        if preset_period(preset, today=today, time_zone=period.time_zone) == period:
            return preset
    return Preset.CUSTOM
