"""Lookups the API routes share: ids in a body or a filter turned into records or 422s."""

from __future__ import annotations

import re
from typing import Any

from deskhand.audit.queries import history
from deskhand.core.errors import Invalid, NotFound
from deskhand.core.numbers import MAX_ID
from deskhand.customers import queries
from deskhand.customers.models import Organization


def organization_or_none(organization_id: int | None, *, field: str = "organization") -> Organization | None:
    """The organization a body names by id (None for "No organization"); unknown ids are a 422."""
    if organization_id is None:
        return None
    try:
        return queries.get_organization(organization_id)
    except NotFound as exc:
        raise Invalid("unknown_organization", exc.message, field=field) from None


_NUMBERS = re.compile(r"[0-9]+")


def id_filter(value: str, *, field: str) -> str:
    """A list filter naming ids (`12`, `3,4`, `team:5`, `none`), returned as given; an id past the
    64-bit range is a 422 here, because SQLite cannot even compare it (an OverflowError, a 500)."""
    if any(len(number) > 19 or int(number) > MAX_ID for number in _NUMBERS.findall(value[:200])):
        raise Invalid(f"invalid_{field}", f"{field.capitalize()} is out of range.", field=field)
    return value


def event_list(object_type: str, object_id: int) -> dict[str, Any]:
    """A customer's or an organization's whole history, for EventListOut."""
    events = list(history(object_type, object_id))
    return {"items": events, "count": len(events)}
