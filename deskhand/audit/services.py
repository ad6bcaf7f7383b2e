"""The audit trail: every service calls `record` inside its own transaction."""

from __future__ import annotations

from typing import Any

from django.db import connections as databases
from django.db import router
from django.utils import timezone

from deskhand.audit.models import AuditEvent
from deskhand.core.actors import Actor

_COLUMNS = ("actor_kind", "actor_label", "actor_agent_id", "actor_token_id", "action", "object_type", "object_id",
            "object_label", "changes", "created_at")
_insert_sql: dict[str, str] = {}  # database alias -> INSERT statement


def _sql(alias: str) -> str:
    """`INSERT INTO audit_auditevent (…) VALUES (%s, …) RETURNING id`, built once per database."""
    if alias not in _insert_sql:
        connection = databases[alias]
        quote = connection.ops.quote_name
        meta = AuditEvent._meta
        columns = ", ".join(quote(meta.get_field(name).column) for name in _COLUMNS)  # type: ignore[union-attr,arg-type]
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
        if connection.features.can_return_columns_from_insert:
            sql += f" RETURNING {quote(str(meta.pk.column))}"
        _insert_sql[alias] = sql
    return _insert_sql[alias]


def event(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None,
    object_label: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """One audit row, unsaved: batch services collect them and write them with `record_many`."""
    return AuditEvent(
        actor_kind=str(actor.kind), actor_label=actor.label[:300], actor_agent_id=actor.agent_id,
        actor_token_id=actor.token_id, action=action, object_type=object_type, object_id=object_id,
        object_label=object_label[:300], changes=changes or {}, created_at=timezone.now(),
    )


def record_many(events: list[AuditEvent]) -> None:
    """Write audit rows of a batch in one statement per 500."""
    AuditEvent.objects.bulk_create(events, batch_size=500)


def record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None,
    object_label: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit row; `changes` maps a field to `{"old": ..., "new": ...}` or holds details.

    One prepared INSERT instead of `objects.create()`: services write an audit row for every
    change, and the ORM's insert compiler cost three times the statement itself (mail import)."""
    event = AuditEvent(
        actor_kind=str(actor.kind),
        actor_label=actor.label[:300],
        actor_agent_id=actor.agent_id,
        actor_token_id=actor.token_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label[:300],
        changes=changes or {},
        created_at=timezone.now(),
    )
    alias = router.db_for_write(AuditEvent)
    connection = databases[alias]
    meta = AuditEvent._meta
    params = [getattr(event, name) for name in _COLUMNS[:-2]]
    params += [meta.get_field("changes").get_db_prep_save(event.changes, connection),
               meta.get_field("created_at").get_db_prep_save(event.created_at, connection)]
    with connection.cursor() as cursor:
        cursor.execute(_sql(alias), params)
        event.pk = cursor.fetchone()[0] if connection.features.can_return_columns_from_insert else cursor.lastrowid
    event._state.adding = False
    event._state.db = alias
    return event


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields whose value changed, as `{field: {"old": a, "new": b}}`."""
    return {key: {"old": old.get(key), "new": value} for key, value in new.items() if old.get(key) != value}
