from __future__ import annotations

from django.db.models import QuerySet

from deskhand.audit.models import AuditEvent


def history(object_type: str, object_id: int, *, limit: int = 200) -> QuerySet[AuditEvent]:
    """The newest events of one record."""
    return AuditEvent.objects.filter(object_type=object_type, object_id=object_id).order_by("-id")[:limit]
