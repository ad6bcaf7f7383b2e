"""Shared by the work services: turning the typed ids and keys of the inputs into records, and the
item's audit trail. Each resolver raises Invalid naming the input field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext

from deskhand.agents.models import Agent, Team
from deskhand.audit.services import Event, event, record
from deskhand.automations.events import ItemEvent
from deskhand.core.actors import Actor, ActorKind
from deskhand.core.errors import Invalid
from deskhand.core.numbers import MAX_ID
from deskhand.core.text import clean_text
from deskhand.customers.models import Customer
from deskhand.work.inputs import AssigneeRef
from deskhand.work.models import Folder, Item, Kind, Priority, Project, Status
from deskhand.work.models.items import reference

ITEM_OBJECT = "item"


def automate(events: Sequence[ItemEvent]) -> None:
    """Hand what happened to the SLA clocks and the automation engine, in the caller's
    transaction. The clocks see every change; changes made by rules are the engine's own business
    (it follows them round by round), so they are not handed back to it. Imported when they run:
    both change items through these very services."""
    if not events:
        return
    from deskhand.automations.engine import run
    from deskhand.notifications.services import NOTE_ADDED, notify_item_events
    from deskhand.sla.services import on_item_events

    # The agents concerned hear of it (a note only for its mentions: no rule or clock looks at notes).
    notify_item_events(events)
    events = [event for event in events if event.type != NOTE_ADDED]
    on_item_events(events)
    if any(event.actor.kind != ActorKind.RULE for event in events):
        run(events)


def automate_records(events: Sequence[ItemEvent]) -> bool:
    """A project or a time entry created or changed: its kind's rules (no SLA clock runs on them).
    True when a rule ran: the caller's instance is then out of date."""
    if not any(event.actor.kind != ActorKind.RULE for event in events):
        return False
    from deskhand.automations.record_engine import run_records

    return bool(run_records(events))


def record_item_event(item: Item, action: str, *, actor: Actor, changes: dict[str, Any] | None = None) -> None:
    """One row of the item's history (who, what, old → new, through which rule)."""
    record(actor=actor, action=action, object_type=ITEM_OBJECT, object_id=item.pk,
           object_label=f"{item.reference} {item.title}", changes=changes)


def item_event(item: Item, action: str, *, actor: Actor, changes: dict[str, Any] | None = None) -> Event:
    """`record_item_event`'s row, unsaved, for a batch service to write with `record_many`."""
    return item_row_event(item.pk, item.title, action, actor=actor, changes=changes)


def item_row_event(item_id: int, title: str, action: str, *, actor: Actor,
                   changes: dict[str, Any] | None = None) -> Event:
    """`item_event` from an item's id and title, for a batch that holds rows rather than items."""
    return event(actor=actor, action=action, object_type=ITEM_OBJECT, object_id=item_id,
                 object_label=f"{reference(item_id)} {title}", changes=changes)


def clean_name(value: str, *, field: str = "name") -> str:
    return clean_text(value, field=field, max_length=200, required=True)


def known_id(value: int, *, field: str, what: str) -> int:
    """Ids come typed from the edges; one past the 64-bit range names nothing."""
    if not 1 <= value <= MAX_ID:
        raise Invalid(f"unknown_{field}", f"There is no {what.lower()} {value}.", field=field)
    return value


def resolve_kind(value: str) -> str:
    if value not in Kind.values:
        raise Invalid("invalid_kind", gettext("An item is a ticket or a task."), field="kind")
    return str(value)


def resolve_status(kind: str, value: str | Status, *, field: str = "status") -> Status:
    """A status of `kind`'s workflow, by key (or the record itself)."""
    if isinstance(value, Status):
        if value.kind != kind:
            raise Invalid("unknown_status", gettext("“%(key)s” is not a %(kind)s status.") % {"key": value.key, "kind": kind}, field=field)
        return value
    status = Status.objects.filter(kind=kind, key=value).first()
    if status is None:
        keys = ", ".join(Status.objects.filter(kind=kind).values_list("key", flat=True))
        raise Invalid("unknown_status", gettext("“%(value)s” is not a %(kind)s status; one of %(keys)s.") % {"value": value, "kind": kind, "keys": keys}, field=field)
    return status


def initial_status(kind: str) -> Status:
    """The first status of the workflow's category "new"."""
    status = Status.objects.filter(kind=kind, category="new").order_by("position", "id").first()
    if status is None:  # pragma: no cover - the migration and the status rules keep one
        raise Invalid("no_initial_status", gettext("The %(kind)s workflow has no status in the category new.") % {"kind": kind}, field="status")
    return status


def resolve_priority(value: str | Priority, *, field: str = "priority") -> int:
    if isinstance(value, Priority):
        return int(value)
    for priority in Priority:
        if value == priority.key:
            return int(priority)
    raise Invalid("unknown_priority", gettext("Priority is low, normal, high or urgent."), field=field)


def resolve_project(value: int | Project | None, *, field: str = "project") -> Project | None:
    if value is None or isinstance(value, Project):
        return value
    project = Project.objects.filter(pk=known_id(value, field=field, what="Project")).first()
    if project is None:
        raise Invalid("unknown_project", gettext("There is no project %(value)s.") % {"value": value}, field=field)
    return project


def resolve_folder(value: int | Folder | None, *, project: Project | None, field: str = "folder") -> Folder | None:
    """A folder, which must belong to `project`."""
    if value is None:
        return None
    folder = value if isinstance(value, Folder) else Folder.objects.filter(
        pk=known_id(value, field=field, what="Folder")).first()
    if folder is None:
        raise Invalid("unknown_folder", gettext("There is no folder %(value)s.") % {"value": value}, field=field)
    if project is None or folder.project_id != project.pk:
        raise Invalid("folder_outside_project", gettext("Folder “%(name)s” belongs to another project.") % {"name": folder.name}, field=field)
    return folder


def resolve_agent(value: int | Agent, *, field: str) -> Agent:
    if isinstance(value, Agent):
        return value
    agent = Agent.objects.filter(pk=known_id(value, field=field, what="Agent"), is_active=True).first()
    if agent is None:
        raise Invalid("unknown_agent", gettext("There is no active agent %(value)s.") % {"value": value}, field=field)
    return agent


def resolve_assignees(refs: Sequence[AssigneeRef | Agent | Team], *, field: str = "assignees"
                      ) -> tuple[list[Agent], list[Team]]:
    """Agents and teams by id (or as records), each once, in the order given."""
    agents: list[Agent] = []
    teams: list[Team] = []
    for ref in refs:
        if isinstance(ref, Agent):
            agents.append(ref)
        elif isinstance(ref, Team):
            teams.append(ref)
        elif ref.kind == "agent":
            agents.append(resolve_agent(ref.id, field=field))
        else:
            team = Team.objects.filter(pk=known_id(ref.id, field=field, what="Team")).first()
            if team is None:
                raise Invalid("unknown_team", gettext("There is no team %(id)s.") % {"id": ref.id}, field=field)
            teams.append(team)
    return list({a.pk: a for a in agents}.values()), list({t.pk: t for t in teams}.values())


def resolve_customer(value: int | Customer, *, field: str) -> Customer:
    if isinstance(value, Customer):
        return value
    customer = Customer.objects.select_related("organization").filter(
        pk=known_id(value, field=field, what="Customer")).first()
    if customer is None:
        raise Invalid("unknown_customer", gettext("There is no customer %(value)s.") % {"value": value}, field=field)
    # A merged customer's requests go to the customer it was merged into.
    while customer.merged_into_id is not None:
        customer = Customer.objects.select_related("organization").get(pk=customer.merged_into_id)
    return customer
