"""Writing many rows that each get their own values."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    Field,
    ForeignKey,
    IntegerField,
    JSONField,
    Model,
    TextField,
)


def _columns(model: type[Model], fields: Sequence[str]) -> list[Field[object, object]]:
    columns: list[Field[object, object]] = []
    for name in fields:
        column = model._meta.get_field(name)
        assert isinstance(column, Field) and column.concrete, f"{name} is not a column"
        columns.append(column)
    return columns


def _preparer(column: Field[object, object], connection: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """`column.get_db_prep_save`, with a shortcut for the values it would hand on unchanged (text
    for a text column, a whole number for a number column, an aware datetime): an audit batch has
    200 000 of them, and the full path costs more than the rest of the insert."""
    prepare = column.get_db_prep_save
    plain: tuple[type, ...] = ()
    if isinstance(column, CharField | TextField) and not column.choices:
        plain = (str,)
    elif isinstance(column, BooleanField):
        plain = (bool,)
    elif isinstance(column, IntegerField | BigIntegerField | ForeignKey) and (
            not isinstance(column, ForeignKey) or isinstance(column.target_field, IntegerField | BigIntegerField)):
        plain = (int,)
    if isinstance(column, DateTimeField):
        adapt: Callable[[datetime.datetime], Any] = connection.ops.adapt_datetimefield_value
        if connection.vendor == "sqlite" and settings.USE_TZ:
            zone = connection.timezone

            def adapt(value: datetime.datetime) -> Any:  # what the SQLite backend's adapt does, minus its checks
                return str(value.astimezone(zone).replace(tzinfo=None))

        def datetime_value(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is datetime.datetime and value.tzinfo is not None:
                return adapt(value)
            return prepare(value, connection)

        return datetime_value

    if isinstance(column, JSONField):
        last: list[Any] = [None, None]

        def json_value(value: Any) -> Any:
            # A batch often writes one dict on every row (a rule's run entry): encoded once.
            if value is not last[0]:
                last[:] = [value, prepare(value, connection)]
            return last[1]

        return json_value

    def value_of(value: Any) -> Any:
        if value is None or type(value) in plain:
            return value
        return prepare(value, connection)

    return value_of


def update_rows(rows: Sequence[Model], fields: Sequence[str]) -> None:
    """Write `fields` of each row in one `executemany` of a plain `UPDATE … WHERE pk = %s`:
    Django's `bulk_update` builds a CASE per field and row instead, which cost a batch of 200
    mails more Python time than everything else it writes together."""
    if not rows:
        return
    model = type(rows[0])
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns = _columns(model, fields)
    assignments = ", ".join(f"{quote(str(column.column))} = %s" for column in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(str(meta.pk.column))} = %s"
    params = [[column.get_db_prep_save(getattr(row, column.attname), connection) for column in columns] + [row.pk]
              for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def insert_rows(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Insert rows given as tuples of `fields` values in one `executemany`, for rows nobody reads
    back in the same transaction (an audit trail): no model instance per row, no ids returned.
    Values go through each field's own `get_db_prep_save`, as the ORM's inserts do."""
    if not rows:
        return
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns = _columns(model, fields)
    names = ", ".join(quote(str(column.column)) for column in columns)
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
    preparers = [_preparer(column, connection) for column in columns]
    params = [[prepare(value) for prepare, value in zip(preparers, row, strict=True)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
