"""What conditions test, read for a batch of items in a few queries: a flat mapping of field
name (rules.FIELDS, custom fields as `custom_fields.<key>`) to value per item."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Max

from deskhand.work.models import Assignee, Item, Message, Priority, Project, TimeEntry

Facts = dict[str, Any]


_COLUMNS = ("id", "kind", "title", "description", "status__key", "status__category", "priority", "channel",
            "mailbox__address", "project_id", "folder_id", "requester_id", "requester__email", "requester__domain",
            "requester__name", "requester__customer_type__name", "requester__language", "requester__custom_fields",
            "organization_id", "organization__name", "organization__custom_fields", "custom_fields")


def read_facts(item_ids: Iterable[int], *, messages: bool = True) -> dict[int, Facts]:
    """Rows, not model instances: a batch of mail reads its facts in four queries and little Python.
    `messages=False`: no rule reads the latest message, so it is not read ("" in its place)."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    assignees: dict[int, list[str]] = defaultdict(list)
    for item_id, agent_id, team_id in Assignee.objects.filter(item_id__in=ids).order_by("id").values_list(
            "item_id", "agent_id", "team_id"):
        assignees[item_id].append(f"agent:{agent_id}" if agent_id else f"team:{team_id}")
    bodies: dict[int, str] = {}
    if messages:
        latest = dict(Message.objects.filter(item_id__in=ids).values("item_id").annotate(last=Max("id"))
                      .values_list("item_id", "last"))
        bodies = dict(Message.objects.filter(pk__in=list(latest.values())).values_list("item_id", "body"))
    priorities = {int(priority): priority.key for priority in Priority}
    facts: dict[int, Facts] = {}
    for row in Item.objects.filter(pk__in=ids).values(*_COLUMNS):
        pk = row["id"]
        message = bodies.get(pk, "")
        values: Facts = {
            "kind": row["kind"], "title": row["title"], "description": row["description"], "message": message,
            "text": "\n".join((row["title"], row["description"], message)),
            "status": row["status__key"], "status_category": row["status__category"],
            "priority": priorities.get(row["priority"], ""), "channel": row["channel"],
            "mailbox": row["mailbox__address"] or "", "project": row["project_id"], "folder": row["folder_id"],
            "assignees": assignees.get(pk, []), "requester": row["requester_id"],
            "requester.email": row["requester__email"] or "", "requester.domain": row["requester__domain"] or "",
            "requester.name": row["requester__name"] or "",
            "requester.customer_type": row["requester__customer_type__name"] or "",
            "requester.language": row["requester__language"] or "",
            "organization": row["organization_id"], "organization.name": row["organization__name"] or "",
        }
        values.update({f"custom_fields.{k}": v for k, v in (row["custom_fields"] or {}).items()})
        values.update({f"requester.custom_fields.{k}": v for k, v in (row["requester__custom_fields"] or {}).items()})
        values.update({f"organization.custom_fields.{k}": v
                       for k, v in (row["organization__custom_fields"] or {}).items()})
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
