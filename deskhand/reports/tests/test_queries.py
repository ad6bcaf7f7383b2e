"""The reports on a hand-built data set (conftest.py), figures computed by hand; the same tests run
on SQLite and PostgreSQL, so both databases give these answers."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest

from deskhand.core.csvsafe import csv_lines
from deskhand.reports.inputs import GroupBy, ReportPeriod
from deskhand.reports.queries import (
    backlog,
    backlog_rows,
    headline,
    response_time_rows,
    response_times,
    volume,
    volume_rows,
)
from deskhand.reports.tests.conftest import Desk, at

BERLIN = ReportPeriod(datetime.date(2026, 3, 28), datetime.date(2026, 3, 31), "Europe/Berlin")
UTC_PERIOD = ReportPeriod(datetime.date(2026, 3, 28), datetime.date(2026, 3, 31), "UTC")


def d(day: int) -> datetime.date:
    return datetime.date(2026, 3, day)


def test_created_and_solved_per_local_day_across_the_switch_to_summer_time(desk: Desk) -> None:
    report = volume(BERLIN)
    assert [(day.day, day.created, day.solved, day.open) for day in report.days] == [
        (d(28), 2, 1, 2), (d(29), 0, 1, 1), (d(30), 1, 1, 1), (d(31), 1, 0, 2)]
    assert (report.created, report.solved, report.open_before) == (4, 3, 1)


def test_the_same_tickets_fall_on_other_days_in_utc(desk: Desk) -> None:
    report = volume(UTC_PERIOD)
    # t1 is on the 27th in UTC (outside), t3 on the 29th, t4 and t5 on the 31st.
    assert [(day.day, day.created, day.solved) for day in report.days] == [
        (d(28), 1, 1), (d(29), 1, 1), (d(30), 0, 1), (d(31), 2, 0)]
    assert report.open_before == 2


def test_volume_per_organization_agent_and_channel(desk: Desk) -> None:
    by_org = {row.label: (row.created, row.solved) for row in volume(BERLIN, GroupBy.ORGANIZATION).groups}
    assert by_org == {"Acme": (2, 1), "Globex": (1, 2), "No organization": (1, 0)}
    by_agent = {row.label: (row.created, row.solved) for row in volume(BERLIN, GroupBy.AGENT).groups}
    assert by_agent == {"Ana Agent": (2, 2), "Bob Agent": (1, 0), "Unassigned": (1, 1)}
    by_channel = {row.label: (row.created, row.solved) for row in volume(BERLIN, GroupBy.CHANNEL).groups}
    assert by_channel == {"Email": (1, 2), "Portal": (1, 0), "Created by an agent": (1, 1), "API": (1, 0)}


def test_first_response_and_resolution_median_and_p90(desk: Desk) -> None:
    report = response_times(BERLIN)
    total = report.total
    assert total.tickets == 4
    # First responses 1 h, 2 h, 4 h, 10 h (the note before t2's reply is no response).
    assert (total.first_response.count, total.first_response.median, total.first_response.p90) == (4, 10800, 29520)
    # Resolutions 10 h 30 (t1) and 7 h 30 (t3); t0 was created before the period.
    assert (total.resolution.count, total.resolution.median, total.resolution.p90) == (2, 32400, 36720)
    assert report.groups == []


def test_response_times_per_group(desk: Desk) -> None:
    by_agent = {row.label: row for row in response_times(BERLIN, GroupBy.AGENT).groups}
    ana = by_agent["Ana Agent"]
    assert (ana.tickets, ana.first_response.median, ana.first_response.p90) == (2, 9000, 13320)
    assert (ana.resolution.count, ana.resolution.median, ana.resolution.p90) == (2, 32400, 36720)
    assert (by_agent["Bob Agent"].first_response.median, by_agent["Bob Agent"].resolution.count) == (7200, 0)
    assert by_agent["Unassigned"].first_response.p90 == 36000
    by_org = {row.label: row for row in response_times(BERLIN, GroupBy.ORGANIZATION).groups}
    assert (by_org["Acme"].tickets, by_org["Acme"].first_response.median) == (2, 5400)
    assert by_org["Globex"].resolution.median == 27000
    assert by_org["No organization"].resolution.median is None
    by_channel = {row.label: row.first_response.median for row in response_times(BERLIN, GroupBy.CHANNEL).groups}
    assert by_channel == {"Email": 3600, "Portal": 7200, "Created by an agent": 14400, "API": 36000}
    # The overall figures do not count a ticket twice when grouping by agent.
    assert response_times(BERLIN, GroupBy.AGENT).total == response_times(BERLIN).total


def test_percentiles_of_many_values(desk: Desk, django_assert_max_num_queries: Any) -> None:
    """Eleven first responses 1..11 hours beyond the data set: the interpolation both ways."""
    from deskhand.reports.tests.conftest import _ticket

    for hour in range(1, 12):
        _ticket(f"Extra {hour}", f"x{hour}@acme.example", channel="email", created=at(30, 12),
                actor=__import__("deskhand.core.actors", fromlist=["SYSTEM"]).SYSTEM, assignee=desk.bob,
                reply_after=hour * 3600)
    with django_assert_max_num_queries(6):
        report = response_times(BERLIN, GroupBy.AGENT)
    bob = {row.label: row for row in report.groups}["Bob Agent"]
    # Bob: 2 h (t2) and 1..11 h: 12 values; median between the 6th and 7th (5 h, 6 h).
    assert (bob.first_response.count, bob.first_response.median) == (12, 19800)
    # p90 at position 9.9: 9 h + 0.9 × (10 h − 9 h).
    assert bob.first_response.p90 == 9 * 3600 + 0.9 * 3600


def test_backlog_by_status_now_and_per_day(desk: Desk) -> None:
    report = backlog(BERLIN)
    assert {status.key: status.count for status in report.statuses} == {"new": 3, "open": 0, "pending": 0}
    assert report.total == 3
    assert [day.open for day in report.days] == [2, 1, 1, 2]
    by_org = {row.label: row.total for row in backlog(BERLIN, GroupBy.ORGANIZATION).groups}
    assert by_org == {"Acme": 2, "No organization": 1}
    by_agent = backlog(BERLIN, GroupBy.AGENT)
    assert {row.label: row.counts for row in by_agent.groups} == {"Bob Agent": {"new": 1}, "Unassigned": {"new": 2}}
    assert by_agent.total == 3


def test_empty_period(db: Any) -> None:
    period = ReportPeriod(datetime.date(2026, 1, 1), datetime.date(2026, 1, 3), "UTC")
    assert [day.created for day in volume(period).days] == [0, 0, 0]
    times = response_times(period, GroupBy.ORGANIZATION)
    assert (times.total.tickets, times.total.first_response.median, times.groups) == (0, None, [])


def test_headline(desk: Desk) -> None:
    numbers = headline(desk.ana, time_zone="Europe/Berlin", now=at(31, 23))
    assert (numbers.open, numbers.unassigned, numbers.mine, numbers.breaching_soon) == (3, 2, 0, 0)
    assert (numbers.created_7d, numbers.solved_7d) == (6, 3)  # 26 March to 1 April in Berlin: all six
    assert numbers.first_response_median_7d == 10800


def _parse(rows: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(csv_lines(rows)))))


def test_csv_rows(desk: Desk) -> None:
    assert _parse(volume_rows(volume(BERLIN)))[:2] == [["day", "created", "solved", "open_at_end_of_day"],
                                                       ["2026-03-28", "2", "1", "2"]]
    times = _parse(response_time_rows(response_times(BERLIN, GroupBy.CHANNEL)))
    assert times[1] == ["All tickets", "4", "4", "3.0", "8.2", "2", "9.0", "10.2"]
    assert _parse(backlog_rows(backlog(BERLIN)))[1] == ["All tickets", "3", "0", "0", "3"]


def test_csv_neutralises_formulas_in_names(desk: Desk) -> None:
    desk.acme.name = "=HYPERLINK(\"http://evil\")"
    desk.acme.save()
    rows = _parse(volume_rows(volume(BERLIN, GroupBy.ORGANIZATION)))
    assert "'=HYPERLINK(\"http://evil\")" in [row[0] for row in rows if row]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"])
def test_each_ticket_is_on_exactly_one_day(desk: Desk, zone: str) -> None:
    period = ReportPeriod(datetime.date(2026, 3, 20), datetime.date(2026, 4, 5), zone)
    assert volume(period).created == 6


def test_tasks_are_reported_apart(desk: Desk, admin_actor: Any) -> None:
    from deskhand.work.inputs import ItemChanges, ItemDraft
    from deskhand.work.models import Item
    from deskhand.work.services.items import change_item, create_task

    task = create_task(ItemDraft(title="Order toner"), actor=admin_actor)
    Item.objects.filter(pk=task.pk).update(created_at=at(30, 8), status_changed_at=at(30, 8))
    change_item(task, changes=ItemChanges(status="done"), actor=admin_actor)
    Item.objects.filter(pk=task.pk).update(status_changed_at=at(30, 10), solved_at=at(30, 10), resolution_seconds=7200)
    report = volume(BERLIN, kind="task")
    assert [(day.created, day.solved) for day in report.days] == [(0, 0), (0, 0), (1, 1), (0, 0)]
    assert response_times(BERLIN, kind="task").total.resolution.median == 7200
    assert response_times(BERLIN, kind="task").total.label == "All tasks"
    assert backlog(BERLIN, kind="task").total == 0
    assert volume(BERLIN).created == 4  # the task is no ticket



def test_a_report_is_kept_for_a_minute_then_computed_anew(desk: Desk, admin_actor: Any,
                                                         django_assert_num_queries: Any) -> None:
    from deskhand.reports.tests.conftest import _ticket

    first = volume(BERLIN, GroupBy.AGENT)
    with django_assert_num_queries(0):
        assert volume(BERLIN, GroupBy.AGENT) == first
    _ticket("Late one", "zoe@acme.example", channel="email", created=at(30, 10), actor=admin_actor)

    assert volume(BERLIN, GroupBy.AGENT).created == first.created  # within the minute: as shown a moment ago
    assert volume(BERLIN, GroupBy.AGENT, fresh=True).created == first.created + 1
    assert volume(BERLIN, GroupBy.AGENT).created == first.created + 1  # the fresh figures are kept
    assert volume(BERLIN, GroupBy.ORGANIZATION).created == first.created + 1  # another grouping: its own
    assert volume(UTC_PERIOD, GroupBy.AGENT).days != first.days  # another time zone: its own
