"""What conditions test, read for a batch of items in a few queries: a flat mapping of field
name (rules.FIELDS, custom fields as `custom_fields.<key>`) to value per item."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Max

from deskhand.work.models import Assignee, Item, Message, Priority

Facts = dict[str, Any]


def read_facts(item_ids: Iterable[int]) -> dict[int, Facts]:
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    items = Item.objects.filter(pk__in=ids).select_related(
        "status", "requester", "requester__customer_type", "organization", "mailbox")
    assignees: dict[int, list[str]] = defaultdict(list)
    for item_id, agent_id, team_id in Assignee.objects.filter(item_id__in=ids).order_by("id").values_list(
            "item_id", "agent_id", "team_id"):
        assignees[item_id].append(f"agent:{agent_id}" if agent_id else f"team:{team_id}")
    latest = dict(Message.objects.filter(item_id__in=ids).values("item_id").annotate(last=Max("id"))
                  .values_list("item_id", "last"))
    bodies = dict(Message.objects.filter(pk__in=list(latest.values())).values_list("item_id", "body"))
    facts: dict[int, Facts] = {}
    for item in items:
        requester, organization = item.requester, item.organization
        message = bodies.get(item.pk, "")
        values: Facts = {
            "kind": item.kind,
            "title": item.title,
            "description": item.description,
            "message": message,
            "text": "\n".join((item.title, item.description, message)),
            "status": item.status.key,
            "status_category": item.status.category,
            "priority": Priority(item.priority).key,
            "channel": item.channel,
            "mailbox": item.mailbox.address if item.mailbox else "",
            "project": item.project_id,
            "folder": item.folder_id,
            "assignees": assignees.get(item.pk, []),
            "requester": item.requester_id,
            "requester.email": requester.email if requester else "",
            "requester.domain": requester.domain if requester else "",
            "requester.name": requester.name if requester else "",
            "requester.customer_type": requester.customer_type.name if requester and requester.customer_type else "",
            "requester.language": requester.language if requester else "",
            "organization": item.organization_id,
            "organization.name": organization.name if organization else "",
        }
        values.update({f"custom_fields.{k}": v for k, v in item.custom_fields.items()})
        if requester:
            values.update({f"requester.custom_fields.{k}": v for k, v in requester.custom_fields.items()})
        if organization:
            values.update({f"organization.custom_fields.{k}": v for k, v in organization.custom_fields.items()})
        facts[item.pk] = values
    return facts


WATCHED = ("title", "description", "status", "status_category", "priority", "project", "folder", "assignees",
           "requester", "organization")


def changes_between(before: Facts, after: Facts) -> dict[str, tuple[Any, Any]]:
    """The condition fields whose value differs: what an update event carries."""
    keys = set(WATCHED) | {k for k in (*before, *after) if k.startswith("custom_fields.")}
    return {key: (before.get(key), after.get(key)) for key in sorted(keys) if before.get(key) != after.get(key)}
