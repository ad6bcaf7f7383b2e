"""Business time (sla.clock), pure."""

from __future__ import annotations

import datetime

from deskhand.sla.clock import BusinessHours, add_minutes, minutes_between

UTC = datetime.UTC
OFFICE = BusinessHours(always=False, zone="Europe/Berlin", holidays=frozenset({datetime.date(2026, 12, 25)}))


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def test_round_the_clock_counts_every_minute() -> None:
    assert add_minutes(at(4, 16), 120, BusinessHours()) == at(4, 18)
    assert minutes_between(at(4, 16), at(4, 18), BusinessHours()) == 120


def test_office_hours_skip_nights_weekends_and_holidays() -> None:
    # Friday 4 December 2026, 15:00 UTC = 16:00 in Berlin: one hour left that day, the rest on Monday.
    assert add_minutes(at(4, 15), 120, OFFICE) == at(7, 9)  # Monday 10:00 Berlin
    # Thursday 24, 16:30 Berlin: half an hour left; Friday 25 is a holiday; on to Monday 28.
    assert add_minutes(at(24, 15, 30), 60, OFFICE) == at(28, 8, 30)
    assert minutes_between(at(4, 15), at(7, 9), OFFICE) == 120
    assert minutes_between(at(5, 10), at(6, 10), OFFICE) == 0  # a weekend


def test_before_opening_starts_at_opening() -> None:
    assert add_minutes(at(7, 5), 30, OFFICE) == at(7, 8, 30)  # 06:00 Berlin → 09:30 Berlin


def test_many_amounts_in_one_walk_agree_with_one_at_a_time() -> None:
    from deskhand.sla.clock import add_many

    amounts = [1, 59, 60, 61, 480, 481, 2400, 9999]
    for start in (at(4, 15), at(24, 15, 30), at(7, 5), at(5, 12)):
        for hours in (OFFICE, BusinessHours()):
            assert add_many(start, amounts, hours) == {m: add_minutes(start, m, hours) for m in amounts}
