"""The engine for the project and timesheet kinds: a project created or changed, time logged or
corrected → the rules of that kind → their actions, through the project and timesheet services,
in the caller's transaction, each rule in its own savepoint (`engine.run_logged`).

One round: these kinds' actions (a portfolio, a folder, billable, a note on the item) are not
events for other rules, so nothing cascades and nothing can loop. A project's runs are written to
its history; a time entry's to the history of the item the time was logged on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from deskhand.audit.services import Event, event
from deskhand.automations.engine import Outcome, rule_actor, run_logged, template_values
from deskhand.automations.events import ItemEvent
from deskhand.automations.facts import read_project_facts, read_time_facts
from deskhand.automations.planner import Planned, plan
from deskhand.automations.queries import rules_for
from deskhand.automations.rules import Action, ActionType, ItemKind, render_template
from deskhand.core.actors import Actor, ActorKind
from deskhand.work.inputs import ProjectChanges, TimeChanges
from deskhand.work.models import Folder, MessageKind, Project, TimeEntry
from deskhand.work.services._common import item_event
from deskhand.work.services.messages import add_message
from deskhand.work.services.projects import create_folder, update_project
from deskhand.work.services.timesheets import update_time_entry

RECORD_KINDS = frozenset({ItemKind.PROJECT, ItemKind.TIMESHEET})


def run_records(events: Sequence[ItemEvent]) -> list[Outcome]:
    """Plan and perform what these project and time entry events fire (`item_id` is the
    project's or the time entry's id; `kind` says which)."""
    outcomes: list[Outcome] = []
    for kind in (ItemKind.PROJECT, ItemKind.TIMESHEET):
        mine = [e for e in events if e.kind == kind and e.actor.kind != ActorKind.RULE]
        rules = rules_for({kind}, (e.organization_id for e in mine)) if mine else []
        if not rules:
            continue
        read = read_project_facts if kind == ItemKind.PROJECT else read_time_facts
        facts = read(e.item_id for e in mine)
        for each in mine:
            if each.item_id in facts:
                for planned in plan(facts[each.item_id], each, rules):
                    outcomes.append(_apply_project(planned) if kind == ItemKind.PROJECT else _apply_time(planned))
    return outcomes


def _actor(planned: Planned) -> Actor:
    # Admins write the rules; a rule may correct any agent's time as an admin may.
    return replace(rule_actor(planned.rule_id, planned.name), is_admin=True)


def _apply_project(planned: Planned) -> Outcome:
    actor = _actor(planned)
    project = Project.objects.get(pk=planned.item_id)

    def perform(action: Action) -> str:
        if action.type == ActionType.SET_FIELD:
            update_project(project, changes=ProjectChanges(portfolio=action.value), actor=actor)
            portfolio = project.portfolio
            return f"moved to portfolio {portfolio.name}" if portfolio else "taken out of its portfolio"
        if action.type == ActionType.ADD_FOLDER:
            name = action.name.strip()
            if Folder.objects.filter(project=project, name__iexact=name).exists():
                return f"folder {name} was there already"
            create_folder(name, project=project, actor=actor)
            return f"added folder {name}"
        raise ValueError(f"{action.type} is not a project action")

    def history(action: str, changes: dict[str, Any]) -> Event:
        return event(actor=actor, action=action, object_type="project", object_id=project.pk,
                     object_label=project.name, changes=changes)

    return run_logged(planned, perform, history)


def _apply_time(planned: Planned) -> Outcome:
    actor = _actor(planned)
    entry = TimeEntry.objects.select_related("item__requester", "item__organization", "item__status", "agent").get(
        pk=planned.item_id)
    item = entry.item

    def perform(action: Action) -> str:
        if action.type == ActionType.SET_FIELD:
            update_time_entry(entry, changes=TimeChanges(billable=bool(action.value)), actor=actor)
            return "marked billable" if entry.billable else "marked not billable"
        if action.type == ActionType.NOTE:
            values = {**template_values(item), "time.minutes": str(entry.minutes),
                      "time.agent": entry.agent.display_name}
            add_message(item, kind=MessageKind.NOTE, body=render_template(action.body, values), actor=actor)
            return "added an internal note"
        raise ValueError(f"{action.type} is not a timesheet action")

    def history(action: str, changes: dict[str, Any]) -> Event:
        return item_event(item, action, actor=actor, changes={"time_entry": entry.pk, **changes})

    return run_logged(planned, perform, history)
