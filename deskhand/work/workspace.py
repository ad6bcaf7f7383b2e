"""Reads of the agents' workspace: the views beside a list and their counts, what on a list row
calls for an agent's attention, and who else is on an item page right now."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Max, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from deskhand.core.bidi import without_direction_controls
from deskhand.core.text import first_line
from deskhand.work.models import Item, ItemPresence, ItemSeen, Kind, Message, MessageKind, SavedView
from deskhand.work.queries import ItemFilters, item_count, item_list
from deskhand.work.services.workspace import resolve_me

# How long a view's count may be shown before it is counted again (seconds).
COUNT_FRESH = 30
# A page renews its presence every few seconds; three missed beats and the agent has left.
PRESENT_FOR = datetime.timedelta(seconds=20)
# An agent typed in the reply box within this long: "is typing".
NOT_DONE = "category:new,open,pending"


@dataclass(frozen=True)
class View:
    """A named query of a list: a built-in one (key `my-open`, …) or a saved one (`saved-<id>`)."""

    key: str
    name: str
    query: Mapping[str, str]
    saved: SavedView | None = None

    @property
    def sort(self) -> str:
        return self.query.get("sort", "-id")

    def filters(self, *, me: int) -> ItemFilters:
        values = {key: value for key, value in self.query.items() if key != "sort"}
        return ItemFilters.from_mapping({**values, "assignee": resolve_me(values.get("assignee", ""), me=me)})


BUILT_IN: dict[str, tuple[View, ...]] = {
    Kind.TICKET: (
        View("my-open", "My open", {"assignee": "me", "status": "category:new,open"}),
        View("unassigned", "Unassigned", {"assignee": "none", "status": "category:new,open"}),
        View("waiting", "Waiting on customer", {"status": "category:pending"}),
        View("breaching", "Breaching soon", {"sla": "at_risk"}),
        View("customer-updates", "Recently updated by customers", {"updated_by": "customer", "sort": "-customer_at"}),
    ),
    Kind.TASK: (
        View("my-open", "My open", {"assignee": "me", "status": "category:new,open"}),
        View("unassigned", "Unassigned", {"assignee": "none", "status": "category:new,open"}),
    ),
}


def saved_view_list(agent_id: int, kind: str) -> QuerySet[SavedView]:
    """The agent's own views and those shared with everyone, by name."""
    return (SavedView.objects.filter(Q(owner_id=agent_id) | Q(shared=True), kind=kind)
            .select_related("owner").order_by("name", "id"))


def views_for(agent_id: int, kind: str) -> list[View]:
    saved = [View(f"saved-{view.pk}", view.name, view.query, view) for view in saved_view_list(agent_id, kind)[:200]]
    return [*BUILT_IN.get(kind, ()), *saved]


def view_items(view: View, kind: str, *, me: int) -> QuerySet[Item]:
    return item_list(kind, view.filters(me=me), sort=view.sort, followers=False)


def view_count(view: View, kind: str, *, me: int) -> int:
    filters = view.filters(me=me)
    return item_count(kind, filters, item_list(kind, filters, sort=view.sort, names=False, followers=False))


def _count_key(view: View, kind: str, me: int) -> str:
    filters = view.filters(me=me).as_query()
    return "viewcount:" + hashlib.sha256(repr((kind, sorted(filters.items()))).encode()).hexdigest()[:32]


def _personal(view: View) -> bool:
    return "me" in view.query.get("assignee", "").split(",")


def view_counts(views: Sequence[View], kind: str, *, me: int) -> dict[str, int]:
    """The sidebar's counts. Each is kept for COUNT_FRESH seconds under its resolved filters, so the
    views every agent shares (Unassigned, Waiting on customer, a shared view) are counted once for
    the whole team, and an agent's minute-by-minute refresh costs a cache read, not a count over
    200 000 tickets. A count up to half a minute old is what a sidebar can afford to show; the
    agent's own views (assigned to me) are always counted afresh."""
    # An agent's own views ("me") are counted every time: a ticket just assigned shows at once.
    keys = {view.key: _count_key(view, kind, me) for view in views if not _personal(view)}
    known = cache.get_many(list(keys.values()))
    counts = {}
    fresh = {}
    for view in views:
        key = keys.get(view.key)
        if key is None:
            counts[view.key] = view_count(view, kind, me=me)
        elif key in known:
            counts[view.key] = int(known[key])
        else:
            counts[view.key] = fresh[key] = view_count(view, kind, me=me)
    if fresh:
        cache.set_many(fresh, COUNT_FRESH)
    return counts


def matching_view(views: Sequence[View], query: Mapping[str, str]) -> View | None:
    """The view whose query is the list's current one (a view opened, or the same filters chosen)."""
    wanted = {key: value for key, value in query.items() if value and key not in ("view", "page")}
    if wanted.get("sort") == "-id":
        del wanted["sort"]
    return next((view for view in views if dict(view.query) == wanted), None)


@dataclass
class Attention:
    """What a list row shows besides the item's own fields."""

    unread: bool = False
    last_line: str = ""
    last_by: str = ""
    last_kind: str = ""
    viewers: list[str] = field(default_factory=list)


def attention(items: Sequence[Item], *, agent_id: int, now: datetime.datetime | None = None) -> dict[int, Attention]:
    """For a page of items: a customer message the agent has not seen (and nobody answered), the
    latest message's first line, and the other agents on the item now. Three queries a page."""
    now = now or timezone.now()
    ids = [item.pk for item in items]
    if not ids:
        return {}
    seen = dict(ItemSeen.objects.filter(agent_id=agent_id, item_id__in=ids).values_list("item_id", "seen_at"))
    latest = (Message.objects.filter(item_id__in=ids).values("item_id").annotate(last=Max("id"))
              .values_list("last", flat=True))
    # Tuples, not models: a page's 50 messages with two joined authors would be 150 instances.
    messages = {row[0]: row[1:] for row in Message.objects.filter(pk__in=latest).values_list(
        "item_id", "kind", Substr("body", 1, 300), "author_name", "author_email", "author_agent__name",
        "author_agent__email", "author_customer__name", "author_customer__email")}
    viewers: dict[int, list[str]] = {}
    for presence in (ItemPresence.objects.filter(item_id__in=ids, seen_at__gte=now - PRESENT_FOR)
                     .exclude(agent_id=agent_id).select_related("agent").order_by("agent__name")):
        viewers.setdefault(presence.item_id, []).append(presence.agent.display_name)
    rows = {}
    for item in items:
        row = Attention(viewers=viewers.get(item.pk, []))
        wrote = item.last_customer_message_at
        if wrote is not None:
            answered = max(filter(None, (seen.get(item.pk), item.last_agent_reply_at)), default=None)
            row.unread = answered is None or wrote > answered
        message = messages.get(item.pk)
        if message is not None:
            kind, start, name, email, agent_name, agent_email, customer_name, customer_email = message
            row.last_line, row.last_kind = without_direction_controls(first_line(start)), kind
            row.last_by = without_direction_controls(
                agent_name or agent_email or customer_name or customer_email or name or email
                or ("Note" if kind == MessageKind.NOTE else ""))
        rows[item.pk] = row
    return rows


@dataclass(frozen=True)
class Presence:
    name: str
    typing: bool


def present(item: Item, *, agent_id: int, now: datetime.datetime | None = None) -> list[Presence]:
    """The other agents on the item's page now, those typing first."""
    now = now or timezone.now()
    rows = (ItemPresence.objects.filter(item_id=item.pk, seen_at__gte=now - PRESENT_FOR)
            .exclude(agent_id=agent_id).select_related("agent"))
    return sorted((Presence(row.agent.display_name, row.typing) for row in rows),
                  key=lambda each: (not each.typing, each.name.lower()))


def messages_since(item: Item, after_id: int) -> QuerySet[Message]:
    """Messages added to the item after the one the page showed last (someone else answered?)."""
    return Message.objects.filter(item_id=item.pk, pk__gt=after_id).select_related("author_agent", "author_customer")
