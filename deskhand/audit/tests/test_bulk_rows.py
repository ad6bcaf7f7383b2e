"""core.bulk on the audit table: rows written by one executemany read back exactly as the ORM writes
them."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from deskhand.audit.models import AuditEvent
from deskhand.core.bulk import insert_rows, update_rows

COLUMNS = ("actor_kind", "actor_label", "actor_agent_id", "action", "object_type", "object_id", "object_label",
           "changes", "created_at")
OSLO = datetime.datetime(2026, 7, 1, 14, 30, 5, 123456, tzinfo=zoneinfo.ZoneInfo("Europe/Oslo"))


def _stored(row: AuditEvent) -> tuple[Any, ...]:
    row.refresh_from_db()
    return tuple(getattr(row, name) for name in COLUMNS)


def test_inserted_rows_read_back_as_the_orm_writes_them(db: Any) -> None:
    values = [("rule", "Zoë's rule", None, "automation.ran", "item", 7, "#7 Drucker", {"did": ["ü", 1, None]}, OSLO),
              ("agent", "a@b.test", 3, "x", "item", None, "", {}, OSLO.astimezone(datetime.UTC))]
    insert_rows(AuditEvent, COLUMNS, values)
    for (kind, label, agent, action, object_type, object_id, object_label, changes, created_at), row in zip(
            values, list(AuditEvent.objects.order_by("id")), strict=True):
        orm = AuditEvent.objects.create(actor_kind=kind, actor_label=label, actor_agent_id=agent, action=action,
                                        object_type=object_type, object_id=object_id, object_label=object_label,
                                        changes=changes)
        AuditEvent.objects.filter(pk=orm.pk).update(created_at=created_at)
        assert _stored(row) == _stored(orm)
        assert row.created_at == OSLO and row.changes == changes


def test_updated_rows_keep_their_types(db: Any) -> None:
    insert_rows(AuditEvent, COLUMNS, [("rule", "r", None, "a", "item", 1, "#1", {}, OSLO)])
    row = AuditEvent.objects.get()
    row.object_id, row.changes, row.created_at = None, {"n": 2}, OSLO + datetime.timedelta(days=1)
    update_rows([row], ["object_id", "changes", "created_at"])
    row.refresh_from_db()
    assert (row.object_id, row.changes, row.created_at) == (None, {"n": 2}, OSLO + datetime.timedelta(days=1))


def test_one_dict_on_many_rows_is_written_on_each(db: Any) -> None:
    shared = {"did": ["SLA applied"]}
    other = {"did": ["note"]}
    insert_rows(AuditEvent, COLUMNS, [("rule", "r", None, "a", "item", n, f"#{n}", changes, OSLO)
                                      for n, changes in enumerate([shared, shared, other, shared])])
    assert [row.changes for row in AuditEvent.objects.order_by("object_id")] == [shared, shared, other, shared]
