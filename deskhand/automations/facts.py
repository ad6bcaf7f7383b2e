"""What conditions test, read for a batch of items in a few queries: a flat mapping of field
name (rules.FIELDS, custom fields as `custom_fields.<key>`) to value per item."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

from django.db.models import Max

from deskhand.work.models import Assignee, Item, Message, Priority, Project, TimeEntry

Facts = dict[str, Any]


# The columns each property is read from; `kind`, `title` and `organization` are always read.
_SOURCES: dict[str, tuple[str, ...]] = {
    "description": ("description",), "text": ("description",), "status": ("status__key",),
    "status_category": ("status__category",), "priority": ("priority",), "channel": ("channel",),
    "mailbox": ("mailbox__address",), "project": ("project_id",), "folder": ("folder_id",),
    "requester": ("requester_id",), "requester.email": ("requester__email",),
    "requester.domain": ("requester__domain",), "requester.name": ("requester__name",),
    "requester.customer_type": ("requester__customer_type__name",), "requester.language": ("requester__language",),
    "organization.name": ("organization__name",),
}
_CUSTOM_SOURCES = {"custom_fields.": "custom_fields", "requester.custom_fields.": "requester__custom_fields",
                   "organization.custom_fields.": "organization__custom_fields"}
_ALWAYS = ("id", "kind", "title", "organization_id")
_ALL_COLUMNS = tuple(dict.fromkeys((*_ALWAYS, *(c for cs in _SOURCES.values() for c in cs), *_CUSTOM_SOURCES.values())))


def _columns(fields: Collection[str] | None) -> tuple[str, ...]:
    if fields is None:
        return _ALL_COLUMNS
    columns = list(_ALWAYS)
    for name in fields:
        columns += _SOURCES.get(name, ())
        columns += [column for prefix, column in _CUSTOM_SOURCES.items() if name.startswith(prefix)]
    return tuple(dict.fromkeys(columns))


def read_facts(item_ids: Iterable[int], *, fields: Collection[str] | None = None,
               messages: bool = True) -> dict[int, Facts]:
    """Rows, not model instances: a batch of mail reads its facts in four queries and little Python.
    `fields`: only these properties (and the item's kind, title and organization), when no rule
    tests more: the sample SLA on every new ticket tests nothing, so a batch of mail reads one
    narrow row per item. `messages=False`: no rule reads the latest message ("" in its place)."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    columns = _columns(fields)
    assignees: dict[int, list[str]] = defaultdict(list)
    if fields is None or "assignees" in fields:
        for item_id, agent_id, team_id in Assignee.objects.filter(item_id__in=ids).order_by("id").values_list(
                "item_id", "agent_id", "team_id"):
            assignees[item_id].append(f"agent:{agent_id}" if agent_id else f"team:{team_id}")
    bodies: dict[int, str] = {}
    if messages and (fields is None or {"text", "message"} & set(fields)):
        latest = dict(Message.objects.filter(item_id__in=ids).values("item_id").annotate(last=Max("id"))
                      .values_list("item_id", "last"))
        bodies = dict(Message.objects.filter(pk__in=list(latest.values())).values_list("item_id", "body"))
    priorities = {int(priority): priority.key for priority in Priority}
    facts: dict[int, Facts] = {}
    for row in Item.objects.filter(pk__in=ids).values(*columns):
        pk = row["id"]
        message = bodies.get(pk, "")
        get = row.get
        values: Facts = {
            "kind": row["kind"], "title": row["title"], "description": get("description", ""), "message": message,
            "text": "\n".join((row["title"], get("description", ""), message)),
            "status": get("status__key"), "status_category": get("status__category"),
            "priority": priorities.get(get("priority", 0), ""), "channel": get("channel", ""),
            "mailbox": get("mailbox__address") or "", "project": get("project_id"), "folder": get("folder_id"),
            "assignees": assignees.get(pk, []), "requester": get("requester_id"),
            "requester.email": get("requester__email") or "", "requester.domain": get("requester__domain") or "",
            "requester.name": get("requester__name") or "",
            "requester.customer_type": get("requester__customer_type__name") or "",
            "requester.language": get("requester__language") or "",
            "organization": row["organization_id"], "organization.name": get("organization__name") or "",
        }
        for prefix, column in _CUSTOM_SOURCES.items():
            values.update({f"{prefix}{k}": v for k, v in (get(column) or {}).items()})
        facts[pk] = values
    return facts


WATCHED = ("title", "description", "status", "status_category", "priority", "project", "folder", "assignees",
           "requester", "organization")


def changes_between(before: Facts, after: Facts) -> dict[str, tuple[Any, Any]]:
    """The condition fields whose value differs: what an update event carries."""
    keys = set(WATCHED) | {k for k in (*before, *after) if k.startswith("custom_fields.")}
    return {key: (before.get(key), after.get(key)) for key in sorted(keys) if before.get(key) != after.get(key)}


def read_project_facts(project_ids: Iterable[int]) -> dict[int, Facts]:
    """A project rule's properties (rules.PROJECT_FIELDS)."""
    facts: dict[int, Facts] = {}
    for row in Project.objects.filter(pk__in=set(project_ids)).values(
            "id", "name", "portfolio_id", "organization_id", "organization__name", "organization__custom_fields"):
        values: Facts = {"kind": "project", "name": row["name"], "portfolio": row["portfolio_id"],
                         "organization": row["organization_id"], "organization.name": row["organization__name"] or ""}
        values.update({f"organization.custom_fields.{k}": v
                       for k, v in (row["organization__custom_fields"] or {}).items()})
        facts[row["id"]] = values
    return facts


def read_time_facts(entry_ids: Iterable[int]) -> dict[int, Facts]:
    """A timesheet rule's properties: the time entry's (rules.TIME_FIELDS) and, as `item.<field>`,
    those of the item the time was logged on."""
    rows = list(TimeEntry.objects.filter(pk__in=set(entry_ids)).values(
        "id", "item_id", "minutes", "billable", "note", "agent_id"))
    items = read_facts({row["item_id"] for row in rows}, messages=False)
    facts: dict[int, Facts] = {}
    for row in rows:
        values: Facts = {"kind": "timesheet", "minutes": row["minutes"], "billable": row["billable"],
                         "note": row["note"], "agent": row["agent_id"]}
        values.update({f"item.{k}": v for k, v in items.get(row["item_id"], {}).items() if k not in ("text", "message")})
        facts[row["id"]] = values
    return facts
