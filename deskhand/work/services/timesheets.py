"""Time spent on items."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from deskhand.agents.models import Agent
from deskhand.automations.events import ItemEvent
from deskhand.core.actors import Actor
from deskhand.core.errors import Forbidden, Invalid
from deskhand.core.inputs import UNSET
from deskhand.core.text import clean_text
from deskhand.work.inputs import TimeChanges
from deskhand.work.models import Item, TimeEntry
from deskhand.work.services._common import automate_records, record_item_event, resolve_agent

MAX_MINUTES = 24 * 60


def _minutes(value: int) -> int:
    if not 1 <= value <= MAX_MINUTES:
        raise Invalid("invalid_minutes", gettext("Minutes are a whole number from 1 to %(value)s.") % {"value": MAX_MINUTES}, field="minutes")
    return value


def _date(value: str | datetime.date | None) -> datetime.date:
    if value is None:
        return timezone.localdate()
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            raise Invalid("invalid_date", gettext("A date is written YYYY-MM-DD."), field="date") from None
    if value > timezone.localdate() + datetime.timedelta(days=1):
        raise Invalid("future_date", gettext("Time cannot be logged for a future day."), field="date")
    return value


def _agent_for(actor: Actor, agent: int | Agent | None) -> Agent:
    """The agent whose time this is: the actor, unless another agent is named."""
    if agent is None:
        if actor.agent_id is None:
            raise Invalid("agent_required", gettext("Name the agent whose time this is."), field="agent")
        return resolve_agent(actor.agent_id, field="agent")
    return resolve_agent(agent, field="agent")


@transaction.atomic
def log_time(
    item: Item,
    *,
    minutes: int,
    date: str | datetime.date | None = None,
    note: str = "",
    billable: bool = True,
    agent: int | Agent | None = None,
    actor: Actor,
) -> TimeEntry:
    entry = TimeEntry.objects.create(
        item=item, agent=_agent_for(actor, agent), minutes=_minutes(minutes), date=_date(date),
        note=clean_text(note, field="note", max_length=500), billable=billable,
    )
    record_item_event(item, "time.logged", actor=actor, changes={
        "entry": entry.pk, "agent": entry.agent.email, "minutes": entry.minutes, "date": entry.date.isoformat(),
        "billable": entry.billable,
    })
    if automate_records([ItemEvent(entry.pk, "created", actor=actor, kind="timesheet")]):
        entry.refresh_from_db()
    return entry


def _may_change(entry: TimeEntry, actor: Actor) -> None:
    if not actor.is_admin and actor.agent_id != entry.agent_id:
        raise Forbidden("not_your_time", gettext("Only the agent who logged this time, or an admin, can change it."))


@transaction.atomic
def update_time_entry(entry: TimeEntry, *, changes: TimeChanges, actor: Actor) -> TimeEntry:
    _may_change(entry, actor)
    before = {"minutes": entry.minutes, "date": entry.date.isoformat(), "note": entry.note, "billable": entry.billable}
    if changes.minutes is not UNSET:
        entry.minutes = _minutes(changes.minutes)
    if changes.date is not UNSET:
        entry.date = _date(changes.date)
    if changes.note is not UNSET:
        entry.note = clean_text(changes.note, field="note", max_length=500)
    if changes.billable is not UNSET:
        entry.billable = changes.billable
    entry.save()
    after = {"minutes": entry.minutes, "date": entry.date.isoformat(), "note": entry.note, "billable": entry.billable}
    changed = {key: {"old": before[key], "new": value} for key, value in after.items() if before[key] != value}
    if changed:
        record_item_event(entry.item, "time.updated", actor=actor, changes={"entry": entry.pk, **changed})
        if automate_records([ItemEvent(entry.pk, "updated", actor=actor, kind="timesheet",
                                       changes={key: (value["old"], value["new"]) for key, value in changed.items()})]):
            entry.refresh_from_db()
    return entry


@transaction.atomic
def delete_time_entry(entry: TimeEntry, *, actor: Actor) -> None:
    _may_change(entry, actor)
    record_item_event(entry.item, "time.deleted", actor=actor, changes={
        "entry": entry.pk, "agent": entry.agent.email, "minutes": entry.minutes, "date": entry.date.isoformat(),
    })
    entry.delete()
