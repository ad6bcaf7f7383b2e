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


def test_bisection_agrees_with_the_walk_across_a_year_of_starts() -> None:
    """add_many finds dues by bisection in cached working periods; add_minutes walks them. They
    agree for starts at any moment of a year (nights, weekends, holidays, both DST changes) and
    for targets from a minute to past the three years the clock counts."""
    import random

    from deskhand.sla.clock import add_many

    oslo = BusinessHours(always=False, days=frozenset({0, 1, 2, 3, 5}), start=datetime.time(8, 30),
                         end=datetime.time(16, 15), zone="Europe/Oslo",
                         holidays=frozenset({datetime.date(2027, 3, 25), datetime.date(2027, 12, 24)}))
    pick = random.Random(13)
    for hours in (OFFICE, oslo):
        for _ in range(400):
            start = datetime.datetime(2026, 12, 1, tzinfo=UTC) + datetime.timedelta(
                seconds=pick.randrange(366 * 24 * 3600), microseconds=pick.randrange(10**6))
            amounts = [pick.choice([1, 30, 465, 466, 480, 2400, 9999, 40_000, 700_000]) for _ in range(4)]
            assert add_many(start, amounts, hours) == {m: add_minutes(start, m, hours) for m in amounts}, (start, amounts)
