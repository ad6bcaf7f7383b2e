"""The reports (reads only): tickets created and solved per day, first-response and resolution
times (median and p90), the backlog by status; each for a period of local days and optionally per
organization, agent or channel. Aggregated in the database, the same answers on SQLite and
PostgreSQL.

What the figures mean:
- created: a ticket's `created_at`;
- solved: a ticket now in a done-category status, at the moment it reached that status
  (`status_changed_at`, kept by work.services.change_item): a reopened and solved again ticket
  counts once, on its latest solve;
- first response: creation to the first agent reply (a public `reply` message, not a note);
- resolution: creation to the first solve (the first time the ticket reached a done-category
  status, kept when it is reopened: the "first resolution time" of other help desks); both of the
  tickets created in the period, from the item's `first_response_seconds` and `resolution_seconds`
  (set once by the work services with `first_response_at` and `solved_at`);
- per agent: the agents a ticket is assigned to (a ticket of two agents counts for each), tickets
  with no agent under "Unassigned".

Each report is kept for REPORT_FRESH seconds under its arguments (docs/decisions.md, "Reports are
kept for a minute"): a year grouped per agent is a sort of 200 000 durations (300 ms), and the
page, its CSV and the API ask for the same figures in a row. `fresh=True` computes them anew.
"""

from __future__ import annotations

import datetime
import json
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from deskhand.agents.models import Agent
from deskhand.customers.models import Organization
from deskhand.reports.inputs import GroupBy, Preset, ReportPeriod, local_midnight, preset_period
from deskhand.reports.sql import is_postgresql, percentiles, sorts_in_memory
from deskhand.work.models import Assignee, Category, Channel, Item, Kind, Status
from deskhand.work.queries import ItemFilters, item_list

CHANNEL_LABELS = {Channel.EMAIL: "Email", Channel.PORTAL: "Portal", Channel.FORM: "Web form",
                  Channel.API: "API", Channel.WEB: "Created by an agent", Channel.CHAT: "Chat"}
NO_GROUP = {GroupBy.ORGANIZATION: "No organization", GroupBy.AGENT: "Unassigned", GroupBy.CHANNEL: "Unknown",
            GroupBy.NONE: "All tickets"}
ALL: dict[str, str] = {Kind.TICKET: "All tickets", Kind.TASK: "All tasks"}
OPEN_CATEGORIES = (Category.NEW, Category.OPEN, Category.PENDING)
REPORT_FRESH = 60  # seconds a report's figures are kept


# -- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    day: datetime.date
    created: int
    solved: int
    open: int  # open tickets at the end of the day


@dataclass(frozen=True)
class VolumeRow:
    key: str
    label: str
    created: int
    solved: int


@dataclass(frozen=True)
class Volume:
    period: ReportPeriod
    group_by: GroupBy
    days: list[Day]
    groups: list[VolumeRow]
    created: int
    solved: int
    open_before: int  # open when the period started


@dataclass(frozen=True)
class Durations:
    """Seconds: how many tickets have the figure, its median and 90th percentile."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class TimesRow:
    key: str
    label: str
    tickets: int
    first_response: Durations
    resolution: Durations


@dataclass(frozen=True)
class ResponseTimes:
    period: ReportPeriod
    group_by: GroupBy
    total: TimesRow
    groups: list[TimesRow]


@dataclass(frozen=True)
class StatusCount:
    key: str
    label: str
    category: str
    count: int


@dataclass(frozen=True)
class BacklogRow:
    key: str
    label: str
    counts: dict[str, int]
    total: int


@dataclass(frozen=True)
class Backlog:
    period: ReportPeriod
    group_by: GroupBy
    statuses: list[StatusCount]  # now, every open status of the ticket workflow
    groups: list[BacklogRow]
    days: list[Day]  # open tickets at the end of each day of the period
    total: int
    kind: str = Kind.TICKET


@dataclass(frozen=True)
class Headline:
    """The dashboard's numbers for one agent, each matching a ticket list filter."""

    open: int
    unassigned: int
    mine: int
    breaching_soon: int
    created_7d: int
    solved_7d: int
    first_response_median_7d: float | None
    days: list[Day] = field(default_factory=list)


# -- building blocks -------------------------------------------------------------------------------


_ITEM = Item._meta.db_table
_ASSIGNEE = Assignee._meta.db_table


def _group_sql(group_by: GroupBy) -> tuple[str, str]:
    """The group expression over items `i`, and the join it needs."""
    if group_by == GroupBy.ORGANIZATION:
        return "i.organization_id", ""
    if group_by == GroupBy.CHANNEL:
        return "i.channel", ""
    if group_by == GroupBy.AGENT:
        return "a.agent_id", f" LEFT JOIN {_ASSIGNEE} a ON a.item_id = i.id AND a.agent_id IS NOT NULL"
    return "0", ""


def _done_ids(kind: str) -> list[int]:
    return list(Status.objects.filter(kind=kind, category=Category.DONE).values_list("pk", flat=True))


def _in(ids: Sequence[int]) -> tuple[str, list[Any]]:
    """`IN (…)` for a short list of status ids; an empty list matches nothing."""
    if not ids:
        return "IN (NULL)", []
    return f"IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _key(value: Any) -> str:
    return "none" if value is None else str(value)


def group_labels(group_by: GroupBy, keys: Sequence[str]) -> dict[str, str]:
    """The names the groups are shown under: organization names, agent names, channel names."""
    ids = [int(key) for key in keys if key.isdigit()]
    labels = {"none": NO_GROUP[group_by]}
    if group_by == GroupBy.ORGANIZATION and ids:
        labels |= {str(pk): name for pk, name in Organization.objects.filter(pk__in=ids).values_list("pk", "name")}
    elif group_by == GroupBy.AGENT and ids:
        labels |= {str(agent.pk): agent.display_name for agent in Agent.objects.filter(pk__in=ids)}
    elif group_by == GroupBy.CHANNEL:
        labels |= {str(channel): label for channel, label in CHANNEL_LABELS.items()}
    elif group_by == GroupBy.NONE:
        labels["0"] = NO_GROUP[group_by]
    return labels


def _per_day(period: ReportPeriod, kind: str, done: Sequence[int]) -> tuple[dict[datetime.date, int],
                                                                          dict[datetime.date, int]]:
    """Created and solved per local day: each day's bounds are computed here (zoneinfo knows the
    daylight-saving changes), and each day is two index range counts. A GROUP BY over the local date
    sorted 200 000 rows (200 ms on SQLite); counting in ranges reads the same index entries, in order."""
    zone = period.zone
    days = period.days
    moments = [local_midnight(day, zone) for day in [*days, period.end + datetime.timedelta(days=1)]]
    done_in, done_params = _in(done)
    values = ", ".join(["(%s, %s, %s)"] * len(days))
    params: list[Any] = []
    for index in range(len(days)):
        params += [index, moments[index], moments[index + 1]]
    rows = _fetch(
        f"WITH days (n, s, e) AS (VALUES {values}) SELECT n, "
        f"(SELECT COUNT(*) FROM {_ITEM} i WHERE i.kind = %s AND i.created_at >= days.s AND i.created_at < days.e), "
        f"(SELECT COUNT(*) FROM {_ITEM} i WHERE i.kind = %s AND i.status_id {done_in} "
        f"AND i.status_changed_at >= days.s AND i.status_changed_at < days.e) FROM days",
        [*params, kind, kind, *done_params])
    created = {days[int(n)]: int(c) for n, c, _s in rows}
    solved = {days[int(n)]: int(s) for n, _c, s in rows}
    return created, solved


def _open_before(moment: datetime.datetime, kind: str, done: Sequence[int]) -> int:
    """Tickets created before `moment` and not solved by then: two counts that indexes answer alone
    (a solve is never before its ticket's creation)."""
    done_in, done_params = _in(done)
    [(created, solved)] = _fetch(
        f"SELECT (SELECT COUNT(*) FROM {_ITEM} i WHERE i.kind = %s AND i.created_at < %s), "
        f"(SELECT COUNT(*) FROM {_ITEM} i WHERE i.kind = %s AND i.status_id {done_in} AND i.status_changed_at < %s)",
        [kind, moment, kind, *done_params, moment])
    return int(created) - int(solved)


def _days(period: ReportPeriod, kind: str, done: Sequence[int]) -> tuple[list[Day], int]:
    created, solved = _per_day(period, kind, done)
    open_before = _open_before(period.bounds()[0], kind, done)
    days, open_now = [], open_before
    for day in period.days:
        open_now += created.get(day, 0) - solved.get(day, 0)
        days.append(Day(day, created.get(day, 0), solved.get(day, 0), open_now))
    return days, open_before


def _created_and_solved(group_by: GroupBy, kind: str, done: Sequence[int], start: datetime.datetime,
                        end: datetime.datetime) -> dict[str, list[int]]:
    """Per group: the tickets created and those solved in [start, end). PostgreSQL counts both in
    one pass (per agent, one join where two took 1.8 times as long); SQLite would sort every row for
    a GROUP BY (200 000 for a year), so each row's group comes back in one comma-separated string
    and is counted here, in half the time."""
    grp, join = _group_sql(group_by)
    done_in, done_params = _in(done)
    created_sql, created_params = "i.created_at >= %s AND i.created_at < %s", [start, end]
    solved_sql = f"i.status_id {done_in} AND i.status_changed_at >= %s AND i.status_changed_at < %s"
    solved_params = [*done_params, start, end]
    if is_postgresql():
        return {_key(value): [int(created), int(solved)] for value, created, solved in _fetch(
            f"SELECT {grp} AS grp, COUNT(*) FILTER (WHERE {created_sql}), COUNT(*) FILTER (WHERE {solved_sql}) "
            f"FROM {_ITEM} i{join} WHERE i.kind = %s AND (({created_sql}) OR ({solved_sql})) GROUP BY grp",
            [*created_params, *solved_params, kind, *created_params, *solved_params])}
    counts: dict[str, list[int]] = {}
    for index, (where, params) in enumerate(((created_sql, created_params), (solved_sql, solved_params))):
        [(text,)] = _fetch(f"SELECT group_concat(COALESCE({grp}, 'none')) FROM {_ITEM} i{join} "
                           f"WHERE i.kind = %s AND {where}", [kind, *params])
        for key, count in Counter(text.split(",") if text else []).items():
            counts.setdefault(key, [0, 0])[index] = count
    return counts


# -- the reports -----------------------------------------------------------------------------------


_Report = TypeVar("_Report")


def _kept(name: str, period: ReportPeriod, group_by: GroupBy, kind: str, fresh: bool,
          compute: Callable[[], _Report]) -> _Report:
    """The report as computed within the last REPORT_FRESH seconds, or computed now."""
    key = f"report:{name}:{kind}:{group_by.value}:{period.start}:{period.end}:{period.time_zone}"
    if not fresh:
        found = cache.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
    report = compute()
    cache.set(key, report, REPORT_FRESH)
    return report


def _volume(period: ReportPeriod, group_by: GroupBy = GroupBy.NONE, *, kind: str = Kind.TICKET) -> Volume:
    """Tickets created and solved per local day of the period, the open ones at each day's end, and
    (grouped) the totals per organization, agent or channel, largest first."""
    done = _done_ids(kind)
    days, open_before = _days(period, kind, done)
    groups: list[VolumeRow] = []
    if group_by != GroupBy.NONE:
        counts = _created_and_solved(group_by, kind, done, *period.bounds())
        labels = group_labels(group_by, list(counts))
        groups = sorted((VolumeRow(key, labels.get(key, key), c, s) for key, (c, s) in counts.items()),
                        key=lambda row: (-row.created, -row.solved, row.label.lower()))
    return Volume(period, group_by, days, groups, sum(d.created for d in days), sum(d.solved for d in days),
                  open_before)


def _durations(count: int, median: float | None, p90: float | None) -> Durations:
    if not count:
        return Durations()
    return Durations(count, None if median is None else round(median, 1), None if p90 is None else round(p90, 1))


Figures = dict[str, tuple[int, Durations, Durations]]  # group key → tickets, first response, resolution


_FIGURES = ("COUNT(*), COUNT(first_s), percentile_cont(0.5) WITHIN GROUP (ORDER BY first_s), "
            "percentile_cont(0.9) WITHIN GROUP (ORDER BY first_s), COUNT(resolution_s), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_s), "
            "percentile_cont(0.9) WITHIN GROUP (ORDER BY resolution_s)")


def _times_postgresql(tickets: str, params: list[Any], grouped: str | None, *,
                      repeats: bool) -> tuple[Figures, Figures]:
    """percentile_cont in the database, in one statement: the overall figures and those per group
    as grouping sets of one pass, or (per agent, where a ticket of two agents has two rows) the
    overall figures over the tickets and those per group over the join."""
    if grouped is None:
        sql = f"SELECT 1, NULL, {_FIGURES} FROM ({tickets}) AS t"
        args = params
    elif not repeats:
        # Materialized: sorted by group, where the planner would walk an index in group order and
        # read every row from the table (3 times as long).
        sql = (f"WITH t AS MATERIALIZED ({grouped}) SELECT GROUPING(grp), grp, {_FIGURES} FROM t "
               "GROUP BY GROUPING SETS ((), (grp))")
        args = params
    else:
        sql = (f"SELECT 1, NULL, {_FIGURES} FROM ({tickets}) AS t "
               f"UNION ALL SELECT 0, grp, {_FIGURES} FROM ({grouped}) AS t GROUP BY grp")
        args = [*params, *params]
    with sorts_in_memory():
        rows = _fetch(sql, args)
    result: tuple[Figures, Figures] = ({}, {})
    for overall, grp, n, first_n, first_median, first_p90, done_n, done_median, done_p90 in rows:
        result[0 if overall else 1][_key(grp)] = (int(n), _durations(first_n, first_median, first_p90),
                                                  _durations(done_n, done_median, done_p90))
    return result


def _sorted_numbers(text: str | None) -> list[int]:
    """The whole numbers of a group_concat, sorted (json's scanner reads them twice as fast as int())."""
    values: list[int] = json.loads(f"[{text}]") if text else []
    values.sort()
    return values


def _times_sqlite(tickets: str, params: list[Any], grouped: str | None, *, repeats: bool) -> tuple[Figures, Figures]:
    """SQLite has no percentile aggregate, and Python sorts 200 000 numbers faster than SQLite
    does: each group's durations are fetched as one comma-separated string (200 000 row tuples
    cost three times as much) and sorted here. The overall figures are the groups' merged, or (per
    agent, where a ticket of two agents has two rows) those of the tickets without the join."""
    def fetch(sql: str, group: str) -> dict[str, tuple[int, list[int], list[int]]]:
        return {_key(grp): (int(n), _sorted_numbers(first), _sorted_numbers(done)) for grp, n, first, done in _fetch(
            f"SELECT {group}, COUNT(*), group_concat(first_s), group_concat(resolution_s) FROM ({sql}) AS t"
            + (" GROUP BY grp" if group == "grp" else ""), params)}

    def figures(n: int, first: list[int], done: list[int]) -> tuple[int, Durations, Durations]:
        return n, _durations(*percentiles(first, ordered=True)), _durations(*percentiles(done, ordered=True))

    per_group = fetch(grouped, "grp") if grouped is not None else {}
    if grouped is None or repeats:
        total = fetch(tickets, "NULL")["none"]
    else:  # the groups' sorted runs: merging them is cheap
        total = (sum(n for n, _f, _d in per_group.values()), sorted(chain.from_iterable(f for _n, f, _d in per_group.values())),
                 sorted(chain.from_iterable(d for _n, _f, d in per_group.values())))
    return {"none": figures(*total)}, {key: figures(*values) for key, values in per_group.items()}


def _response_times(period: ReportPeriod, group_by: GroupBy = GroupBy.NONE, *,
                   kind: str = Kind.TICKET) -> ResponseTimes:
    """Of the tickets created in the period: the time to the first agent reply and to the first
    solve, in seconds, median and 90th percentile (percentile_cont's interpolation), overall and
    per group. Both are the item's own columns (`first_response_seconds`, `resolution_seconds`,
    kept by the work services), read from item_report_idx alone."""
    start, end = period.bounds()
    grp, join = _group_sql(group_by)
    durations = "i.first_response_seconds AS first_s, i.resolution_seconds AS resolution_s"
    where = "WHERE i.kind = %s AND i.created_at >= %s AND i.created_at < %s"
    tickets = f"SELECT {durations} FROM {_ITEM} i {where}"
    grouped = None if group_by == GroupBy.NONE else f"SELECT {grp} AS grp, {durations} FROM {_ITEM} i{join} {where}"
    overall, per_group = (_times_postgresql if is_postgresql() else _times_sqlite)(
        tickets, [str(kind), start, end], grouped, repeats=group_by == GroupBy.AGENT)
    tickets_total, first, done = overall.get("none", (0, Durations(), Durations()))
    total = TimesRow("all", ALL[kind], tickets_total, first, done)
    labels = group_labels(group_by, list(per_group))
    groups = sorted((TimesRow(key, labels.get(key, key), n, first_response, resolution)
                     for key, (n, first_response, resolution) in per_group.items()),
                    key=lambda row: (-row.tickets, row.label.lower()))
    return ResponseTimes(period, group_by, total, groups)


def _backlog(period: ReportPeriod, group_by: GroupBy = GroupBy.NONE, *, kind: str = Kind.TICKET) -> Backlog:
    """The open tickets now by status (overall and per group), and the open tickets at the end of
    each day of the period."""
    statuses = list(Status.objects.filter(kind=kind).exclude(category=Category.DONE))
    grp, join = _group_sql(group_by)
    status_in, status_params = _in([status.pk for status in statuses])
    rows = _fetch(f"SELECT i.status_id, {grp} AS grp, COUNT(*) FROM {_ITEM} i{join} "
                  f"WHERE i.kind = %s AND i.status_id {status_in} GROUP BY i.status_id, grp", [kind, *status_params])
    by_id = {status.pk: status for status in statuses}
    totals: dict[int, int] = {}
    per_group: dict[str, dict[str, int]] = {}
    for status_id, value, count in rows:
        per_group.setdefault(_key(value), {})[by_id[status_id].key] = int(count)
        totals[status_id] = totals.get(status_id, 0) + int(count)
    if group_by == GroupBy.AGENT:  # a ticket of two agents is one ticket of the backlog
        totals = {int(status_id): int(count) for status_id, count in _fetch(
            f"SELECT i.status_id, COUNT(*) FROM {_ITEM} i WHERE i.kind = %s AND i.status_id {status_in} "
            f"GROUP BY i.status_id", [kind, *status_params])}
    counts = [StatusCount(s.key, s.label, s.category, totals.get(s.pk, 0)) for s in statuses]
    groups: list[BacklogRow] = []
    if group_by != GroupBy.NONE:
        labels = group_labels(group_by, list(per_group))
        groups = sorted((BacklogRow(key, labels.get(key, key), values, sum(values.values()))
                         for key, values in per_group.items()), key=lambda row: (-row.total, row.label.lower()))
    days, _open_before = _days(period, kind, _done_ids(kind))
    return Backlog(period, group_by, counts, groups, days, sum(c.count for c in counts), kind)


def volume(period: ReportPeriod, group_by: GroupBy = GroupBy.NONE, *, kind: str = Kind.TICKET,
           fresh: bool = False) -> Volume:
    return _kept("volume", period, group_by, kind, fresh, lambda: _volume(period, group_by, kind=kind))


def response_times(period: ReportPeriod, group_by: GroupBy = GroupBy.NONE, *, kind: str = Kind.TICKET,
                   fresh: bool = False) -> ResponseTimes:
    return _kept("response-times", period, group_by, kind, fresh, lambda: _response_times(period, group_by, kind=kind))


def backlog(period: ReportPeriod, group_by: GroupBy = GroupBy.NONE, *, kind: str = Kind.TICKET,
            fresh: bool = False) -> Backlog:
    return _kept("backlog", period, group_by, kind, fresh, lambda: _backlog(period, group_by, kind=kind))


def headline(agent: Agent, *, time_zone: str, now: datetime.datetime | None = None) -> Headline:
    """The dashboard: open, unassigned and the agent's own open tickets, the SLA clocks at risk,
    and the last 7 days' created, solved and first-response median; each count is the count of a
    ticket list filter, so that its link shows exactly those tickets."""
    moment = now or timezone.now()
    week = preset_period(Preset.LAST_7, today=moment.astimezone(zoneinfo.ZoneInfo(time_zone)).date(),
                         time_zone=time_zone)
    counts = {name: item_list(Kind.TICKET, filters, followers=False).order_by().count()
              for name, filters in headline_filters(agent).items()}
    week_volume = volume(week)
    times = response_times(week)
    return Headline(open=counts["open"], unassigned=counts["unassigned"], mine=counts["mine"],
                    breaching_soon=counts["breaching_soon"], created_7d=week_volume.created,
                    solved_7d=week_volume.solved, first_response_median_7d=times.total.first_response.median,
                    days=week_volume.days)


def headline_filters(agent: Agent) -> dict[str, ItemFilters]:
    """The ticket list filters behind the dashboard's counts (the links pass them on)."""
    open_ = "category:" + ",".join(OPEN_CATEGORIES)
    return {"open": ItemFilters(status=open_), "unassigned": ItemFilters(status=open_, assignee="none"),
            "mine": ItemFilters(status=open_, assignee=str(agent.pk)), "breaching_soon": ItemFilters(sla="at_risk")}


# -- CSV ---------------------------------------------------------------------------------------------


def _hours(seconds: float | None) -> float | str:
    return "" if seconds is None else round(seconds / 3600, 2)


def volume_rows(report: Volume) -> Iterator[list[Any]]:
    """The volume report as CSV rows: one per day, then (grouped) one per group."""
    yield ["day", "created", "solved", "open_at_end_of_day"]
    for day in report.days:
        yield [day.day.isoformat(), day.created, day.solved, day.open]
    if report.groups:
        yield []
        yield [report.group_by.value, "created", "solved"]
        for row in report.groups:
            yield [row.label, row.created, row.solved]


def response_time_rows(report: ResponseTimes) -> Iterator[list[Any]]:
    yield ["group", "tickets_created", "first_responses", "first_response_median_hours",
           "first_response_p90_hours", "solved", "resolution_median_hours", "resolution_p90_hours"]
    for row in [report.total, *report.groups]:
        yield [row.label, row.tickets, row.first_response.count, _hours(row.first_response.median),
               _hours(row.first_response.p90), row.resolution.count, _hours(row.resolution.median),
               _hours(row.resolution.p90)]


def backlog_rows(report: Backlog) -> Iterator[list[Any]]:
    keys = [status.key for status in report.statuses]
    yield ["group", *keys, "total"]
    yield [ALL[report.kind], *[status.count for status in report.statuses], report.total]
    for row in report.groups:
        yield [row.label, *[row.counts.get(key, 0) for key in keys], row.total]
    yield []
    yield ["day", "open_at_end_of_day"]
    for day in report.days:
        yield [day.day.isoformat(), day.open]
