"""The audit trail: every service calls `record` inside its own transaction."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from deskhand.audit.models import AuditEvent
from deskhand.core.actors import Actor


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
    """Write one audit row; `changes` maps a field to `{"old": ..., "new": ...}` or holds details."""
    row = event(actor=actor, action=action, object_type=object_type, object_id=object_id, object_label=object_label,
                changes=changes)
    record_many([row])
    return row


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields whose value changed, as `{field: {"old": a, "new": b}}`."""
    return {key: {"old": old.get(key), "new": value} for key, value in new.items() if old.get(key) != value}
