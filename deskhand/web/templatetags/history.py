"""`{% history_lines events subject="Carl" kind="customer" as lines %}`: a record's audit rows as
sentences (see `deskhand.web.history`), for the profile pages that include the history card."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from deskhand.audit.models import AuditEvent
from deskhand.web.history import Line, readable

register = template.Library()


@register.simple_tag
def history_lines(events: Iterable[AuditEvent], *, subject: str, kind: str) -> list[Line]:
    return readable(events, subject=subject, kind=kind)
