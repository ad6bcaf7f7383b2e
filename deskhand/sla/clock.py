"""Business time, pure: when a target of N working minutes falls due, and how many working
minutes lie between two moments, for a policy's days, hours, time zone and holidays."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

MAX_DAYS = 3 * 366  # no target or pause is counted further than this
ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class BusinessHours:
    """Working days (0 = Monday) from `start` to `end` local time in `zone`; `always` is 24/7."""

    always: bool = True
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: datetime.time = datetime.time(9)
    end: datetime.time = datetime.time(17)
    zone: str = "UTC"
    holidays: frozenset[datetime.date] = field(default_factory=frozenset)


@functools.lru_cache(maxsize=4096)
def _day(hours: BusinessHours, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime] | None:
    """The working period of one day, or None: a batch of clocks started on the same days asks
    for the same few, so they are worked out once (a pure function of its arguments)."""
    if day.weekday() not in hours.days or day in hours.holidays:
        return None
    zone = ZoneInfo(hours.zone)
    return datetime.datetime.combine(day, hours.start, zone), datetime.datetime.combine(day, hours.end, zone)


def _windows(hours: BusinessHours, after: datetime.datetime) -> Iterable[tuple[datetime.datetime, datetime.datetime]]:
    """The working periods from `after` on, in order (UTC-aware datetimes)."""
    day = after.astimezone(ZoneInfo(hours.zone)).date()
    for _ in range(MAX_DAYS):
        window = _day(hours, day)
        if window is not None and window[1] > after:
            yield max(window[0], after), window[1]
        day += ONE_DAY


def add_minutes(start: datetime.datetime, minutes: int, hours: BusinessHours) -> datetime.datetime:
    """The moment `minutes` of working time after `start`."""
    if hours.always:
        return start + datetime.timedelta(minutes=minutes)
    left = datetime.timedelta(minutes=minutes)
    cursor = start
    for opens, closes in _windows(hours, start):
        span = closes - opens
        if span >= left:
            return opens + left
        left -= span
        cursor = closes
    return cursor + left  # beyond MAX_DAYS: count the rest as plain time


def add_many(start: datetime.datetime, minutes: Iterable[int], hours: BusinessHours) -> dict[int, datetime.datetime]:
    """`add_minutes` for several amounts from one start, in one walk over the working periods
    (an SLA clock needs four: two targets and the moments they become at risk)."""
    wanted = sorted(set(minutes))
    if hours.always:
        return {m: start + datetime.timedelta(minutes=m) for m in wanted}
    found: dict[int, datetime.datetime] = {}
    used = datetime.timedelta()
    cursor = start
    pending = iter(wanted)
    target = next(pending, None)
    for opens, closes in _windows(hours, start):
        while target is not None and used + (closes - opens) >= datetime.timedelta(minutes=target):
            found[target] = opens + (datetime.timedelta(minutes=target) - used)
            target = next(pending, None)
        if target is None:
            return found
        used += closes - opens
        cursor = closes
    while target is not None:  # beyond MAX_DAYS: the rest as plain time
        found[target] = cursor + (datetime.timedelta(minutes=target) - used)
        target = next(pending, None)
    return found


def minutes_between(start: datetime.datetime, end: datetime.datetime, hours: BusinessHours) -> int:
    """Working minutes from `start` to `end` (0 when end is not later)."""
    if end <= start:
        return 0
    if hours.always:
        return int((end - start).total_seconds() // 60)
    total = datetime.timedelta()
    for opens, closes in _windows(hours, start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return int(total.total_seconds() // 60)
