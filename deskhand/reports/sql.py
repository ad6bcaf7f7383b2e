"""The SQL the reports share, written once for SQLite and PostgreSQL so that both give the same
answers: a moment as whole epoch seconds, and percentiles
(percentile_cont on PostgreSQL; on SQLite the same interpolation over a window-numbered sort)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


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
