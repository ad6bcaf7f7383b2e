"""Business time, pure: when a target of N working minutes falls due, and how many working
minutes lie between two moments, for a policy's days, hours, time zone and holidays."""

from __future__ import annotations

import bisect
import datetime
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

MAX_DAYS = 3 * 366  # no target or pause is counted further than this
ONE_DAY = datetime.timedelta(days=1)
ZERO = datetime.timedelta()


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


@dataclass(frozen=True)
class _Timeline:
    """The working periods of `days` calendar days, with the working time before each: a due
    moment is then two bisections away instead of a walk."""

    opens: tuple[datetime.datetime, ...]
    closes: tuple[datetime.datetime, ...]
    before: tuple[datetime.timedelta, ...]

    @property
    def total(self) -> datetime.timedelta:
        return self.before[-1] + (self.closes[-1] - self.opens[-1]) if self.opens else ZERO


@functools.lru_cache(maxsize=256)
def _timeline(hours: BusinessHours, first: datetime.date, days: int) -> _Timeline:
    opens: list[datetime.datetime] = []
    closes: list[datetime.datetime] = []
    before: list[datetime.timedelta] = []
    total = ZERO
    day = first
    for _ in range(days):
        window = _day(hours, day)
        if window is not None:
            opens.append(window[0])
            closes.append(window[1])
            before.append(total)
            total += window[1] - window[0]
        day += ONE_DAY
    return _Timeline(tuple(opens), tuple(closes), tuple(before))


def add_many(start: datetime.datetime, minutes: Iterable[int], hours: BusinessHours) -> dict[int, datetime.datetime]:
    """`add_minutes` for several amounts from one start (an SLA clock needs four: two targets and
    the moments they become at risk), found by bisection in the working periods from the start's
    day on: a batch of mail starts thousands of clocks on the same few days."""
    wanted = sorted(set(minutes))
    if hours.always or not wanted:
        return {m: start + datetime.timedelta(minutes=m) for m in wanted}
    first = start.astimezone(ZoneInfo(hours.zone)).date()
    longest = datetime.timedelta(minutes=wanted[-1])
    days = 32
    while True:
        line = _timeline(hours, first, days)
        index = bisect.bisect_right(line.closes, start)  # the first period that ends after the start
        offset = line.before[index] + max(start - line.opens[index], ZERO) if index < len(line.opens) else ZERO
        if days >= MAX_DAYS or (index < len(line.opens) and offset + longest <= line.total):
            break
        days = min(days * 4, MAX_DAYS)
    if index == len(line.opens):  # no working time at all: count plain time
        return {m: start + datetime.timedelta(minutes=m) for m in wanted}
    found: dict[int, datetime.datetime] = {}
    for m in wanted:
        target = offset + datetime.timedelta(minutes=m)
        if target > line.total:  # beyond MAX_DAYS: the rest as plain time
            found[m] = line.closes[-1] + (target - line.total)
            continue
        period = bisect.bisect_left(line.before, target) - 1  # the last period that starts before the target
        found[m] = max(line.opens[period], start) + (target - max(line.before[period], offset))
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
