"""The audit trail: every service calls `record` inside its own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from deskhand.audit.models import AuditEvent
from deskhand.core.actors import Actor
from deskhand.core.bulk import insert_rows


@dataclass(frozen=True)
class Event:
    """One audit row to write: who (agent, API token, rule, system), what, on which record, and
    `changes`, a field → `{"old": ..., "new": ...}` or details."""

    actor: Actor
    action: str
    object_type: str
    object_id: int | None
    object_label: str = ""
    changes: dict[str, Any] = field(default_factory=dict)


def event(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None,
    object_label: str = "",
    changes: dict[str, Any] | None = None,
) -> Event:
    """One audit row, to write with the others of a batch (`record_many`)."""
    return Event(actor=actor, action=action, object_type=object_type, object_id=object_id,
                 object_label=object_label, changes=changes or {})


_COLUMNS = ("actor_kind", "actor_label", "actor_agent_id", "actor_token_id", "action", "object_type", "object_id",
            "object_label", "changes", "created_at")


def record_many(events: Sequence[Event]) -> None:
    """Write the audit rows of a batch in one statement: services write one for every change, and
    model instances would cost more than the rows (see `core.bulk.insert_rows`)."""
    now = timezone.now()
    insert_rows(AuditEvent, _COLUMNS, [
        (str(e.actor.kind), e.actor.label[:300], e.actor.agent_id, e.actor.token_id, e.action, e.object_type,
         e.object_id, e.object_label[:300], e.changes, now) for e in events])


def record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None,
    object_label: str = "",
    changes: dict[str, Any] | None = None,
) -> None:
    """Write one audit row; `changes` maps a field to `{"old": ..., "new": ...}` or holds details."""
    record_many([event(actor=actor, action=action, object_type=object_type, object_id=object_id,
                       object_label=object_label, changes=changes)])


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields whose value changed, as `{field: {"old": a, "new": b}}`."""
    return {key: {"old": old.get(key), "new": value} for key, value in new.items() if old.get(key) != value}
