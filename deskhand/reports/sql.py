"""What the reports share on SQLite and PostgreSQL, so that both give the same answers: percentiles
as PostgreSQL's percentile_cont computes them (in the database there; on SQLite, which has no such
aggregate, over the fetched values)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def sorts_in_memory() -> Iterator[None]:
    """PostgreSQL: the statements inside sort a year of tickets in memory (32 MB instead of the
    default 4 MB, for this transaction only), where they would spill to disk and take half as long
    again. Nothing on SQLite."""
    if not is_postgresql():
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '32MB'")
        yield


# The percentiles as exact fractions: the value at position p × (n − 1) of the sorted values,
# interpolated between its neighbours (percentile_cont).
MEDIAN, P90 = (1, 2), (9, 10)


def percentile(ordered: list[int], share: tuple[int, int]) -> float | None:
    """percentile_cont(numerator / denominator) of values sorted ascending."""
    if not ordered:
        return None
    numerator, denominator = share
    position = numerator * (len(ordered) - 1)
    low, rest = divmod(position, denominator)
    below = float(ordered[low])
    return below if rest == 0 else below + (ordered[low + 1] - below) * rest / denominator


def percentiles(values: Iterable[int], *, ordered: bool = False) -> tuple[int, float | None, float | None]:
    """How many values, their median and 90th percentile (`ordered`: the values are a sorted list)."""
    in_order = values if ordered and isinstance(values, list) else sorted(values)
    return len(in_order), percentile(in_order, MEDIAN), percentile(in_order, P90)
