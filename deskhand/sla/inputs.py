"""Typed inputs of the SLA services."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from deskhand.core.inputs import UNSET, Maybe


@dataclass(frozen=True)
class ClockStart:
    """An item a policy's clock starts on: what the clock is computed from, and the item's label
    for its history. A batch of mail starts thousands; no item instance is needed."""

    item_id: int
    created_at: datetime.datetime
    priority: int  # work.Priority
    done: bool  # in a done status: the clock starts resolved
    label: str = ""


@dataclass(frozen=True)
class TargetInput:
    priority: str  # low, normal, high, urgent
    first_response_minutes: int | None = None
    resolution_minutes: int | None = None


@dataclass(frozen=True)
class HoursInput:
    days: Sequence[int] = (0, 1, 2, 3, 4)
    start: str = "09:00"
    end: str = "17:00"
    time_zone: str = "UTC"


@dataclass(frozen=True)
class PolicyInput:
    name: str
    targets: Sequence[TargetInput]
    business_hours: HoursInput | None = None  # None: every minute counts (24/7)
    holidays: Sequence[str | datetime.date] = ()


@dataclass(frozen=True)
class PolicyChanges:
    name: Maybe[str] = UNSET
    targets: Maybe[Sequence[TargetInput]] = UNSET
    business_hours: Maybe[HoursInput | None] = UNSET
    holidays: Maybe[Sequence[str | datetime.date]] = UNSET
