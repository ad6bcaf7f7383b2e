"""The SQL the reports share, written once for SQLite and PostgreSQL so that both give the same
answers: a moment's local day in a time zone, a moment as whole epoch seconds, and percentiles
(percentile_cont on PostgreSQL; on SQLite the same interpolation over a window-numbered sort)."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.db import connection


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _offset(moment: datetime.datetime, zone: zoneinfo.ZoneInfo) -> int:
    offset = moment.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offset_segments(zone: zoneinfo.ZoneInfo, start: datetime.datetime,
                    end: datetime.datetime) -> list[tuple[datetime.datetime | None, int]]:
    """The zone's UTC offsets over [start, end): (until, seconds) pairs, the last one open-ended.
    A two-year period has at most four daylight-saving changes; each is found to the second."""
    segments: list[tuple[datetime.datetime | None, int]] = []
    current = _offset(start, zone)
    day = start
    while day < end:
        following = min(day + datetime.timedelta(days=1), end)
        if _offset(following, zone) != current:
            low, high = day, following  # the offset changes in (low, high]
            while high - low > datetime.timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle <= low:
                    break
                if _offset(middle, zone) == current:
                    low = middle
                else:
                    high = middle
            segments.append((high, current))
            current = _offset(high, zone)
        day = following
    segments.append((None, current))
    return segments


def local_day(column: str, zone: zoneinfo.ZoneInfo, start: datetime.datetime,
              end: datetime.datetime) -> tuple[str, list[Any]]:
    """SQL for the local date of `column` (a moment within [start, end)) and its parameters.
    PostgreSQL converts natively; SQLite shifts the stored UTC text by the offset in force (a CASE
    over the period's daylight-saving changes), with its built-in date() rather than Django's
    per-row Python function, which costs a second for 200 000 rows."""
    if is_postgresql():
        return f"(({column}) AT TIME ZONE %s)::date", [zone.key]
    segments = offset_segments(zone, start, end)
    if len(segments) == 1:
        return f"date({column}, %s)", [f"{segments[0][1]:+d} seconds"]
    sql, params = ["CASE"], []
    for until, seconds in segments:
        if until is None:
            sql.append(f"ELSE date({column}, %s) END")
            params.append(f"{seconds:+d} seconds")
        else:
            sql.append(f"WHEN {column} < %s THEN date({column}, %s)")
            params += [str(connection.ops.adapt_datetimefield_value(until)), f"{seconds:+d} seconds"]
    return " ".join(sql), params


def as_date(value: Any) -> datetime.date:
    """A local day as the database returns it (a date on PostgreSQL, text on SQLite)."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def epoch_seconds(column: str) -> str:
    """Whole seconds since the epoch (fractions cut off alike on both databases)."""
    if is_postgresql():
        return f"FLOOR(EXTRACT(EPOCH FROM {column}))::bigint"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


# Percentiles as exact fractions, so that SQLite's integer positions match percentile_cont's:
# the value at position p × (n − 1) of the sorted values, interpolated between its neighbours.
PERCENTILES = {"median": (1, 2), "p90": (9, 10)}


def interpolate(values: dict[int, float], count: int, numerator: int, denominator: int) -> float:
    """percentile_cont's answer from the values at 0-based sorted positions `values`."""
    position = numerator * (count - 1)
    low = position // denominator
    fraction = (position % denominator) / denominator
    below = values[low]
    return below if fraction == 0 else below + (values[low + 1] - below) * fraction


def percentiles_sql(source: str, metrics: Sequence[str]) -> str:
    """SQL over `source` (rows of grp and one column per metric) giving, per group and metric:
    on PostgreSQL grp, metric, count, median, p90; on SQLite grp, metric, count, position, value
    for the positions the interpolation needs (at most four rows per group and metric)."""
    parts = []
    if is_postgresql():
        for metric in metrics:
            parts.append(
                f"SELECT grp, '{metric}' AS metric, COUNT({metric}) AS n, "
                f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {metric}) AS median, "
                f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {metric}) AS p90 "
                f"FROM {source} WHERE {metric} IS NOT NULL GROUP BY grp")
        return " UNION ALL ".join(parts)
    for metric in metrics:
        parts.append(f"SELECT grp, '{metric}' AS metric, {metric} AS v FROM {source} WHERE {metric} IS NOT NULL")
    wanted = " OR ".join(
        f"k IN ({numerator} * (n - 1) / {denominator}, {numerator} * (n - 1) / {denominator} + 1)"
        for numerator, denominator in PERCENTILES.values())
    return ("SELECT grp, metric, n, k, v FROM ("
            "SELECT grp, metric, v, ROW_NUMBER() OVER (PARTITION BY grp, metric ORDER BY v) - 1 AS k, "
            "COUNT(*) OVER (PARTITION BY grp, metric) AS n FROM (" + " UNION ALL ".join(parts) + ") AS r"
            f") AS ranked WHERE {wanted}")


def read_percentiles(rows: Sequence[Sequence[Any]]) -> dict[tuple[Any, str], tuple[int, float, float]]:
    """(group, metric) → (count, median, p90) from `percentiles_sql`'s rows."""
    if is_postgresql():
        return {(grp, metric): (int(n), float(median), float(p90)) for grp, metric, n, median, p90 in rows}
    positions: dict[tuple[Any, str], tuple[int, dict[int, float]]] = {}
    for grp, metric, n, k, value in rows:
        positions.setdefault((grp, metric), (int(n), {}))[1][int(k)] = float(value)
    result = {}
    for key, (count, values) in positions.items():
        median, p90 = (interpolate(values, count, numerator, denominator)
                       for numerator, denominator in PERCENTILES.values())
        result[key] = (count, median, p90)
    return result
