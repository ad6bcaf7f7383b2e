"""The item lifecycle: the only code that creates or changes tickets and tasks."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from deskhand.agents.models import Agent, Team
from deskhand.audit.services import record_many
from deskhand.automations.events import ItemEvent
from deskhand.core.actors import Actor, ActorKind
from deskhand.core.errors import Invalid
from deskhand.core.inputs import UNSET, given
from deskhand.core.text import clean_text
from deskhand.customers.models import Customer, Source
from deskhand.customers.services import find_or_create_customer
from deskhand.fields.services import clean_values
from deskhand.mail.models import Mailbox
from deskhand.work.inputs import BulkChanges, ItemChanges, ItemDraft
from deskhand.work.inputs import Follower as FollowerInput
from deskhand.work.models import (
    Assignee,
    Category,
    Channel,
    Folder,
    Follower,
    Item,
    Kind,
    Priority,
    Project,
    Status,
)
from deskhand.work.services._common import (
    automate,
    initial_status,
    item_event,
    record_item_event,
    resolve_agent,
    resolve_assignees,
    resolve_customer,
    resolve_folder,
    resolve_priority,
    resolve_project,
    resolve_status,
)

MAX_DESCRIPTION = 100_000
MAX_BULK = 500
CHANNEL_SOURCES = {
    Channel.WEB: Source.AGENT, Channel.API: Source.API, Channel.EMAIL: Source.EMAIL,
    Channel.PORTAL: Source.PORTAL, Channel.FORM: Source.FORM, Channel.CHAT: Source.CHAT,
}


def _title(value: str) -> str:
    return clean_text(value, field="title", max_length=300, required=True)


def _description(value: str) -> str:
    return clean_text(value, field="description", max_length=MAX_DESCRIPTION, multiline=True)


def _channel(value: str) -> str:
    if value not in Channel.values:
        raise Invalid("unknown_channel", f"Channel is one of {', '.join(Channel.values)}.", field="channel")
    return str(value)


def _requester(requester: int | Customer | None, requester_email: str | None, *, name: str, channel: str,
               actor: Actor) -> Customer | None:
    """The customer given by id, or the one behind an address, found or created by the customer rules."""
    if requester is not None and requester_email:
        raise Invalid("requester_twice", gettext("Give the requester as an id or as an email address, not both."),
                      field="requester_email")
    if requester is not None:
        return resolve_customer(requester, field="requester")
    if not requester_email:
        return None
    try:
        customer, _created = find_or_create_customer(
            requester_email, name=name, source=CHANNEL_SOURCES[Channel(channel)], actor=actor)
    except Invalid as exc:
        exc.field = "requester_email" if exc.field == "email" else exc.field
        raise
    return customer


def _people(refs: Sequence[FollowerInput], *, field: str, channel: str, actor: Actor
            ) -> tuple[list[Customer], list[Agent]]:
    """Followers as customers and agents, each once; a customer named by address is found or
    created by the customer rules."""
    customers: list[Customer] = []
    agents: list[Agent] = []
    for ref in refs:
        if isinstance(ref, Customer):
            customers.append(ref)
        elif isinstance(ref, Agent):
            agents.append(ref)
        elif ref.kind == "agent":
            if ref.id is None:
                raise Invalid("invalid_followers", gettext("An agent follower is given by id."), field=field)
            agents.append(resolve_agent(ref.id, field=field))
        elif ref.id is not None:
            customers.append(resolve_customer(ref.id, field=field))
        else:
            try:
                customer, _ = find_or_create_customer(
                    ref.email, source=CHANNEL_SOURCES[Channel(channel)], actor=actor)
            except Invalid as exc:
                raise Invalid(exc.code, exc.message, field=field) from None
            customers.append(customer)
    return list({c.pk: c for c in customers}.values()), list({a.pk: a for a in agents}.values())


def _assignee_refs(agents: Iterable[Agent], teams: Iterable[Team]) -> list[str]:
    return sorted([f"agent:{a.pk}" for a in agents] + [f"team:{t.pk}" for t in teams])


def _follower_refs(customers: Iterable[Customer], agents: Iterable[Agent]) -> list[str]:
    return sorted([f"customer:{c.pk}" for c in customers] + [f"agent:{a.pk}" for a in agents])


def _current_assignees(item: Item) -> tuple[list[Agent], list[Team]]:
    rows = list(item.assignees.select_related("agent", "team"))
    return [r.agent for r in rows if r.agent is not None], [r.team for r in rows if r.team is not None]


def _current_followers(item: Item) -> tuple[list[Customer], list[Agent]]:
    rows = list(item.followers.select_related("customer", "agent"))
    return ([r.customer for r in rows if r.customer is not None],
            [r.agent for r in rows if r.agent is not None])


def _set_assignees(item: Item, agents: list[Agent], teams: list[Team]) -> None:
    item.assignees.all().delete()
    Assignee.objects.bulk_create(
        [Assignee(item=item, kind=item.kind, agent=a) for a in agents]
        + [Assignee(item=item, kind=item.kind, team=t) for t in teams])


def _add_followers(item: Item, customers: Iterable[Customer], agents: Iterable[Agent], *, new: bool = False) -> None:
    """Followers not yet following (`new`: the item was just created, so nobody is)."""
    old_customers, old_agents = ([], []) if new else _current_followers(item)
    known_c = {c.pk for c in old_customers}
    known_a = {a.pk for a in old_agents}
    new_customers = {c.pk: c for c in customers if c.pk not in known_c}
    new_agents = {a.pk: a for a in agents if a.pk not in known_a}
    Follower.objects.bulk_create([Follower(item=item, customer=c) for c in new_customers.values()]
                                 + [Follower(item=item, agent=a) for a in new_agents.values()])


def _state(item: Item) -> dict[str, Any]:
    return {
        "title": item.title,
        "status": item.status.key,
        "priority": Priority(item.priority).key,
        "requester": item.requester.email if item.requester is not None else None,
        "organization": item.organization.name if item.organization is not None else None,
        "project": item.project.name if item.project is not None else None,
        "folder": item.folder.name if item.folder is not None else None,
        "custom_fields": item.custom_fields,
    }


@dataclass(frozen=True)
class NewItem:
    """A ticket or a task with its values resolved to records: what every entry point builds,
    alone or as a batch (`create_items`). Title and description are checked by the service."""

    kind: str
    title: str
    requester: Customer | None
    actor: Actor
    description: str = ""
    channel: str = Channel.WEB
    status: Status | None = None  # None: the first status of the workflow
    priority: int = int(Priority.NORMAL)
    agents: Sequence[Agent] = ()
    teams: Sequence[Team] = ()
    follower_customers: Sequence[Customer] = ()
    follower_agents: Sequence[Agent] = ()
    project: Project | None = None
    folder: Folder | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    mailbox: Mailbox | None = None  # the ticket address a mail came in on
    origin: Item | None = None  # a task made from this ticket: same requester and organization


def whole_seconds(delta: datetime.timedelta) -> int:
    """A duration in whole seconds, half away from zero (as work/0014 rounded the items before it)."""
    micro = delta // datetime.timedelta(microseconds=1)
    whole, rest = divmod(abs(micro), 1_000_000)
    return (whole + (rest >= 500_000)) * (1 if micro >= 0 else -1)


def created_events(items: Sequence[Item], batch: Sequence[NewItem]) -> list[ItemEvent]:
    return [ItemEvent(item.pk, "created", actor=new.actor, kind=item.kind, organization_id=item.organization_id)
            for item, new in zip(items, batch, strict=True)]


def create_items(batch: Sequence[NewItem], *, defer_automations: bool = False) -> list[Item]:
    """Create tickets and tasks, all or none, in a few bulk inserts whatever the batch's size: the
    items, their assignees, their followers (the requester follows their own request; others only
    hear from now on) and one history row each. A ticket needs a requester. The automations run
    on the new items in the same transaction, the rules read once for the batch; a caller that
    adds the first messages itself runs them after (`defer_automations`, `automate`)."""
    initial: dict[str, Status] = {}
    items: list[Item] = []
    now = timezone.now()
    for new in batch:
        if new.kind == Kind.TICKET and new.requester is None:
            raise Invalid("requester_required", gettext("A ticket needs a requester: a customer id or an email address."),
                          field="requester_email")
        status = new.status
        if status is None:
            status = initial.get(new.kind) or initial.setdefault(new.kind, initial_status(new.kind))
        items.append(Item(
            kind=new.kind, title=_title(new.title), description=_description(new.description), status=status,
            priority=new.priority, requester=new.requester,
            organization=new.origin.organization if new.origin is not None else (
                new.requester.organization if new.requester else None), origin=new.origin, project=new.project,
            folder=new.folder, channel=_channel(new.channel), custom_fields=new.custom_fields, mailbox=new.mailbox,
            created_by_id=new.actor.agent_id if new.actor.kind != ActorKind.CUSTOMER else None, status_changed_at=now,
            solved_at=now if status.category == Category.DONE else None,
            resolution_seconds=0 if status.category == Category.DONE else None,
        ))
    with transaction.atomic():
        Item.objects.bulk_create(items)
        assignees: list[Assignee] = []
        followers: list[Follower] = []
        events = []
        for item, new in zip(items, batch, strict=True):
            assignees += [Assignee(item=item, kind=item.kind, agent=a) for a in dict.fromkeys(new.agents)]
            assignees += [Assignee(item=item, kind=item.kind, team=t) for t in dict.fromkeys(new.teams)]
            customers = {c.pk: c for c in ([new.requester] if new.requester else []) + list(new.follower_customers)}
            followers += [Follower(item=item, customer=c) for c in customers.values()]
            followers += [Follower(item=item, agent=a) for a in {a.pk: a for a in new.follower_agents}.values()]
            events.append(item_event(item, f"{new.kind}.created", actor=new.actor, changes={
                **_state(item), "channel": item.channel, "assignees": _assignee_refs(new.agents, new.teams)}))
        Assignee.objects.bulk_create(assignees)
        Follower.objects.bulk_create(followers)
        record_many(events)
        if not defer_automations:
            automate(created_events(items, batch))
    return items


@transaction.atomic
def _create_item(kind: str, draft: ItemDraft, *, channel: str, actor: Actor, origin: Item | None = None,
                 defer_automations: bool = False) -> Item:
    channel = _channel(channel)
    clean_title = _title(draft.title)
    clean_description = _description(draft.description)
    status_record = None if draft.status is None else resolve_status(kind, draft.status)
    priority_value = int(Priority.NORMAL) if draft.priority is None else resolve_priority(draft.priority)
    project_record = resolve_project(draft.project)
    folder_record = resolve_folder(draft.folder, project=project_record)
    agents, teams = resolve_assignees(draft.assignees)
    values = clean_values(kind, draft.custom_fields, enforce_required=channel in (Channel.WEB, Channel.API))
    customer = _requester(draft.requester, draft.requester_email, name=draft.requester_name, channel=channel,
                          actor=actor)
    if kind == Kind.TICKET and customer is None:
        raise Invalid("requester_required", gettext("A ticket needs a requester: a customer id or an email address."),
                      field="requester_email")
    follower_customers, follower_agents = _people(draft.followers, field="followers", channel=channel, actor=actor)
    [item] = create_items([NewItem(
        kind=kind, title=clean_title, description=clean_description, requester=customer, actor=actor,
        channel=channel, status=status_record, priority=priority_value, agents=agents, teams=teams,
        follower_customers=follower_customers, follower_agents=follower_agents, project=project_record,
        folder=folder_record, custom_fields=values, origin=origin)], defer_automations=defer_automations)
    return item


def submit_ticket(draft: ItemDraft, *, channel: str = Channel.WEB, actor: Actor,
                  defer_automations: bool = False) -> Item:
    """A ticket from a customer; a requester address not yet known becomes a customer through
    `find_or_create_customer`, and the ticket keeps the organization the requester has now. A
    caller that adds the first message itself runs the automations after (`defer_automations`,
    `messages.submit_request`)."""
    return _create_item(Kind.TICKET, draft, channel=channel, actor=actor, defer_automations=defer_automations)


def create_task(draft: ItemDraft, *, channel: str = Channel.WEB, actor: Actor,
                defer_automations: bool = False) -> Item:
    """A task the team creates; a requester is optional (a requester name is not asked for)."""
    return _create_item(Kind.TASK, draft, channel=channel, actor=actor, defer_automations=defer_automations)


@transaction.atomic
def create_task_from(ticket: Item, draft: ItemDraft, *, channel: str = Channel.WEB, actor: Actor) -> Item:
    """A further step of a ticket: a task with the ticket's requester and organization, linked to
    it (each shows the other). The ticket's history records it."""
    if ticket.kind != Kind.TICKET:
        raise Invalid("not_a_ticket", gettext("Tasks are made from tickets."), field="ticket")
    if draft.requester is not None or draft.requester_email:
        raise Invalid("requester_given", gettext("A task from a ticket has the ticket's requester."), field="requester")
    task = _create_item(Kind.TASK, replace(draft, requester=ticket.requester), channel=channel, actor=actor,
                        origin=ticket)
    record_item_event(ticket, "ticket.task_created", actor=actor, changes={"task": task.reference,
                                                                          "title": task.title})
    return task


@transaction.atomic
def change_item(item: Item, *, changes: ItemChanges, actor: Actor) -> Item:
    """Apply `changes` to one item, all or nothing, with one history row."""
    item = Item.objects.select_for_update(of=("self",)).select_related(
        "status", "requester", "organization", "project", "folder").get(pk=item.pk)
    before = _state(item)
    watched = _watched(item)
    item_custom_before = dict(item.custom_fields)
    before_description = item.description
    if changes.title is not UNSET:
        item.title = _title(changes.title)
    if changes.description is not UNSET:
        item.description = _description(changes.description)
    if changes.status is not UNSET:
        status = resolve_status(item.kind, changes.status)
        if status != item.status:
            item.status_changed_at = timezone.now()
            if status.category == Category.DONE and item.solved_at is None:  # the first solve, kept
                item.solved_at = item.status_changed_at
                item.resolution_seconds = whole_seconds(item.solved_at - item.created_at)
        item.status = status
    if changes.priority is not UNSET:
        item.priority = resolve_priority(changes.priority)
    if changes.project is not UNSET or changes.folder is not UNSET:
        project = resolve_project(changes.project) if changes.project is not UNSET else item.project
        if changes.folder is not UNSET:
            folder: int | Folder | None = changes.folder
        else:  # a folder stays only while its item stays in the project
            folder = item.folder if project == item.project else None
        item.project = project
        item.folder = resolve_folder(folder, project=project)
    if changes.requester is not UNSET or changes.requester_email is not UNSET:
        customer = _requester(None if changes.requester is UNSET else changes.requester,
                              None if changes.requester_email is UNSET else changes.requester_email,
                              name="", channel=Channel.WEB, actor=actor)
        if item.kind == Kind.TICKET and customer is None:
            raise Invalid("requester_required", gettext("A ticket needs a requester."), field="requester")
        if customer != item.requester:
            item.requester = customer
            # A corrected requester files the item under their organization.
            item.organization = customer.organization if customer else None
            if customer is not None:
                _add_followers(item, [customer], [])
    if changes.custom_fields is not UNSET:
        item.custom_fields = clean_values(item.kind, changes.custom_fields, existing=item.custom_fields,
                                          enforce_required=True)
    after = _state(item)
    event: dict[str, Any] = {key: {"old": before[key], "new": value}
                             for key, value in after.items() if before[key] != value}
    if changes.description is not UNSET and item.description != before_description:
        event["description"] = {"changed": True}
    if changes.assignees is not UNSET:
        old_agents, old_teams = _current_assignees(item)
        agents, teams = resolve_assignees(changes.assignees)
        old, new = _assignee_refs(old_agents, old_teams), _assignee_refs(agents, teams)
        if old != new:
            _set_assignees(item, agents, teams)
            event["assignees"] = {"old": old, "new": new}
    if changes.followers is not UNSET:
        old_customers, old_agents = _current_followers(item)
        customers, agents = _people(changes.followers, field="followers", channel=Channel.WEB, actor=actor)
        if item.requester is not None and item.requester.pk not in {c.pk for c in customers}:
            customers.append(item.requester)  # the requester always follows their own request
        old, new = _follower_refs(old_customers, old_agents), _follower_refs(customers, agents)
        if old != new:
            item.followers.exclude(customer__in=customers).exclude(agent__in=agents).delete()
            _add_followers(item, customers, agents)
            event["followers"] = {"old": old, "new": new}
    if event:  # a change that changes nothing leaves `updated_at` (and the lists sorted by it) alone
        item.save()
        record_item_event(item, f"{item.kind}.updated", actor=actor, changes=event)
        now = _watched(item)
        changed = {key: (old, now[key]) for key, old in watched.items() if now[key] != old}
        changed.update({f"custom_fields.{key}": (item_custom_before.get(key), item.custom_fields.get(key))
                        for key in set(item_custom_before) | set(item.custom_fields)
                        if item_custom_before.get(key) != item.custom_fields.get(key)})
        if "assignees" in event:
            changed["assignees"] = (event["assignees"]["old"], event["assignees"]["new"])
        automate([ItemEvent(item.pk, "updated", actor=actor, changes=changed, kind=item.kind,
                            organization_id=item.organization_id)])
    return item


def _watched(item: Item) -> dict[str, Any]:
    """An item's properties as automation conditions name and compare them (keys and ids)."""
    return {"title": item.title, "description": item.description, "status": item.status.key,
            "status_category": item.status.category, "priority": Priority(item.priority).key,
            "project": item.project_id, "folder": item.folder_id, "requester": item.requester_id,
            "organization": item.organization_id}


@dataclass(frozen=True)
class NewFollower:
    """Someone who starts following an item: one customer or one agent."""

    item: Item
    actor: Actor
    customer: Customer | None = None
    agent: Agent | None = None


def add_followers(batch: Sequence[NewFollower]) -> None:
    """People start following: they hear of what happens from now on, not the past conversation.
    Who follows already is read in one query; the new ones are inserted with their history rows."""
    for new in batch:
        if (new.customer is None) == (new.agent is None):
            raise Invalid("invalid_follower", gettext("A follower is one customer or one agent."), field="followers")
    if not batch:
        return
    following = Follower.objects.filter(item__in={new.item.pk for new in batch}).values_list(
        "item_id", "customer_id", "agent_id")
    seen = {(item_id, "customer" if customer_id else "agent", customer_id or agent_id)
            for item_id, customer_id, agent_id in following}
    rows: list[Follower] = []
    events = []
    for new in batch:
        person = new.customer or new.agent
        assert person is not None
        key = (new.item.pk, "customer" if new.customer else "agent", person.pk)
        if key in seen:
            continue
        seen.add(key)
        rows.append(Follower(item=new.item, customer=new.customer, agent=new.agent))
        events.append(item_event(new.item, f"{new.item.kind}.follower_added", actor=new.actor,
                                 changes={key[1]: person.email}))
    with transaction.atomic():
        Follower.objects.bulk_create(rows)
        record_many(events)


def add_follower(item: Item, *, customer: Customer | None = None, agent: Agent | None = None, actor: Actor) -> Item:
    """`add_followers` for one person."""
    add_followers([NewFollower(item=item, actor=actor, customer=customer, agent=agent)])
    return item


@transaction.atomic
def remove_customer_follower(item: Item, *, customer: Customer, actor: Actor) -> bool:
    """A customer stops following (the requester cannot: their own request). True when they did."""
    if item.requester_id == customer.pk:
        raise Invalid("requester_follows", gettext("The requester always follows their own request."), field="followers")
    removed, _by_model = Follower.objects.filter(item=item, customer=customer).delete()
    if removed:
        record_item_event(item, f"{item.kind}.follower_removed", actor=actor, changes={"customer": customer.email})
    return bool(removed)


def mark_solved(item: Item, *, actor: Actor) -> Item:
    """The customer says their request is solved: it moves to the first done status."""
    done = Status.objects.filter(kind=item.kind, category=Category.DONE).order_by("position", "id").first()
    if done is None:
        raise Invalid("no_done_status", gettext("This workflow has no done status."), field="status")
    if item.status_id == done.pk or item.status.category == Category.DONE:
        return item
    return change_item(item, changes=ItemChanges(status=done.key), actor=actor)


@transaction.atomic
def bulk_change(items: Iterable[Item], *, changes: BulkChanges, actor: Actor) -> int:
    """The same change on many items (assign, set status, move), all or none."""
    items = list(items)
    if not items:
        raise Invalid("no_items", gettext("Choose at least one item."), field="items")
    if len(items) > MAX_BULK:
        raise Invalid("too_many_items", gettext("Change at most %(value)s items at once.") % {"value": MAX_BULK}, field="items")
    if not given(changes):
        raise Invalid("no_changes", gettext("Name at least one change: status, priority, assignees, project, folder."),
                      field="changes")
    item_changes = changes.as_item_changes()
    for item in items:
        change_item(item, changes=item_changes, actor=actor)
    return len(items)
