"""The agents' workspace: saved views, what an agent has seen, and who is on an item page."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from deskhand.audit.services import record
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.core.inputs import UNSET, given
from deskhand.core.text import clean_text
from deskhand.work.inputs import ViewChanges, ViewDraft
from deskhand.work.models import Item, ItemPresence, ItemSeen, Kind, SavedView
from deskhand.work.queries import SORTS, ItemFilters, item_list

MAX_VIEWS_PER_AGENT = 100
# Every agent's sidebar counts every shared view each minute: one agent cannot make that unbounded.
MAX_SHARED_PER_AGENT = 20
QUERY_KEYS = frozenset({*ItemFilters.__dataclass_fields__, "sort"})
# Presence rows older than this are gone for good (the pages renew theirs every few seconds).
PRESENCE_KEPT = datetime.timedelta(hours=1)


def _agent_id(actor: Actor) -> int:
    if actor.agent_id is None:
        raise Forbidden("agents_only", gettext("Only an agent keeps views."))
    return actor.agent_id


def _query(kind: str, query: Mapping[str, str], *, me: int) -> dict[str, str]:
    """The query to keep: known keys with values, each checked as the list itself checks it."""
    unknown = sorted(key for key in query if key not in QUERY_KEYS)
    if unknown:
        raise Invalid("unknown_filter", f"“{unknown[0][:40]}” is not a filter of the list.", field="query")
    kept = {key: clean_text(value, field=key, max_length=200) for key, value in query.items() if value}
    sort = kept.pop("sort", "-id")
    if sort not in SORTS:
        raise Invalid("invalid_sort", f"Sort by one of {', '.join(SORTS)}.", field="sort")
    filters = ItemFilters.from_mapping({**kept, "assignee": resolve_me(kept.get("assignee", ""), me=me)})
    item_list(kind, filters, sort=sort)  # refuses unknown statuses, ids that are not ids, …
    if not kept:
        raise Invalid("empty_view", gettext("Choose at least one filter to save as a view."), field="query")
    return {**kept, **({"sort": sort} if sort != "-id" else {})}


def resolve_me(assignee: str, *, me: int) -> str:
    """`me` in an assignee filter is whoever looks at the list."""
    return ",".join(str(me) if part == "me" else part for part in assignee.split(",")) if assignee else ""


def _name(value: str) -> str:
    return clean_text(value, field="name", max_length=80, required=True)


def _may_change(view: SavedView, actor: Actor) -> None:
    if view.owner_id != actor.agent_id and not actor.is_admin:
        raise Forbidden("not_your_view", gettext("Only its owner or an admin changes a shared view."))


def save_view(draft: ViewDraft, *, actor: Actor) -> SavedView:
    owner = _agent_id(actor)
    if draft.kind not in Kind.values:
        raise Invalid("invalid_kind", gettext("Views are of tickets or tasks."), field="kind")
    view = SavedView(kind=draft.kind, name=_name(draft.name), owner_id=owner, shared=bool(draft.shared),
                     query=_query(draft.kind, draft.query, me=owner))
    with transaction.atomic():
        if SavedView.objects.filter(owner_id=owner).count() >= MAX_VIEWS_PER_AGENT:
            raise Conflict("too_many_views", gettext("You keep at most %(value)s views; delete one first.") % {"value": MAX_VIEWS_PER_AGENT},
                           field="name")
        if view.shared and SavedView.objects.filter(owner_id=owner, shared=True).count() >= MAX_SHARED_PER_AGENT:
            raise Conflict("too_many_shared_views",
                           gettext("You share at most %(value)s views; keep this one for yourself.") % {"value": MAX_SHARED_PER_AGENT}, field="shared")
        try:
            with transaction.atomic():
                view.save()
        except IntegrityError:
            raise Conflict("view_exists", gettext("You already have a view named “%(name)s”.") % {"name": view.name}, field="name") from None
        record(actor=actor, action="view.created", object_type="view", object_id=view.pk, object_label=view.name,
               changes={"query": view.query, "shared": view.shared})
    return view


def change_view(view: SavedView, *, changes: ViewChanges, actor: Actor) -> SavedView:
    _may_change(view, actor)
    old = {"name": view.name, "shared": view.shared, "query": view.query}
    if changes.name is not UNSET:
        view.name = _name(changes.name)
    if changes.shared is not UNSET:
        if changes.shared and not view.shared and SavedView.objects.filter(
                owner_id=view.owner_id, shared=True).count() >= MAX_SHARED_PER_AGENT:
            raise Conflict("too_many_shared_views", gettext("One agent shares at most %(value)s views.") % {"value": MAX_SHARED_PER_AGENT},
                           field="shared")
        view.shared = bool(changes.shared)
    if changes.query is not UNSET:
        view.query = _query(view.kind, changes.query, me=view.owner_id)
    diff = {key: {"old": old[key], "new": getattr(view, key)} for key in given(changes)
            if old[key] != getattr(view, key)}
    if not diff:
        return view
    with transaction.atomic():
        try:
            with transaction.atomic():
                view.save()
        except IntegrityError:
            raise Conflict("view_exists", gettext("There is already a view named “%(name)s”.") % {"name": view.name}, field="name") from None
        record(actor=actor, action="view.changed", object_type="view", object_id=view.pk, object_label=view.name,
               changes=diff)
    return view


def delete_view(view: SavedView, *, actor: Actor) -> None:
    _may_change(view, actor)
    with transaction.atomic():
        record(actor=actor, action="view.deleted", object_type="view", object_id=view.pk, object_label=view.name)
        view.delete()


def open_item(item: Item, *, agent_id: int, now: datetime.datetime | None = None) -> None:
    """The agent opened the item's page: what customers wrote until now is read (for this agent),
    and the others see the agent there. Two statements, whatever was there before."""
    now = now or timezone.now()
    ItemSeen.objects.bulk_create([ItemSeen(agent_id=agent_id, item_id=item.pk, seen_at=now)],
                                 update_conflicts=True, unique_fields=["agent", "item"], update_fields=["seen_at"])
    _present(item, agent_id=agent_id, typing=False, now=now)


def _present(item: Item, *, agent_id: int, typing: bool, now: datetime.datetime) -> None:
    ItemPresence.objects.bulk_create([ItemPresence(agent_id=agent_id, item_id=item.pk, typing=typing, seen_at=now)],
                                     update_conflicts=True, unique_fields=["agent", "item"],
                                     update_fields=["seen_at", "typing"])


def heartbeat(item: Item, *, agent_id: int, typing: bool = False, now: datetime.datetime | None = None) -> None:
    """The agent is still on the item's page (typing in it, or not): renewed by the page."""
    now = now or timezone.now()
    _present(item, agent_id=agent_id, typing=typing, now=now)
    ItemPresence.objects.filter(seen_at__lt=now - PRESENCE_KEPT).delete()


def leave(item: Item, *, agent_id: int) -> None:
    """The agent closed the item's page."""
    ItemPresence.objects.filter(agent_id=agent_id, item_id=item.pk).delete()
