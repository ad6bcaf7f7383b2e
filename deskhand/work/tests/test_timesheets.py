from __future__ import annotations

import csv
import datetime

import pytest
from django.utils import timezone

from deskhand.agents.models import Agent
from deskhand.core.actors import Actor
from deskhand.core.csvsafe import csv_lines
from deskhand.core.errors import Forbidden, Invalid
from deskhand.work.inputs import ItemChanges, ItemDraft, TimeChanges
from deskhand.work.models import Item, TimeEntry
from deskhand.work.queries import TimeFilters, time_entry_list, time_entry_rows, time_totals, total_minutes
from deskhand.work.services.items import change_item, create_task
from deskhand.work.services.projects import create_project
from deskhand.work.services.timesheets import delete_time_entry, log_time, update_time_entry


def test_time_is_logged_for_the_acting_agent(ticket: Item, agent_actor: Actor, agent: Agent) -> None:
    entry = log_time(ticket, minutes=45, note="Replaced toner", actor=agent_actor)
    assert (entry.agent, entry.minutes, entry.date, entry.billable) == (agent, 45, timezone.localdate(), True)


def test_time_for_another_agent(ticket: Item, agent_actor: Actor, admin: Agent) -> None:
    entry = log_time(ticket, minutes=10, agent=admin.pk, billable=False, date="2026-11-01", actor=agent_actor)
    assert entry.agent == admin and entry.date == datetime.date(2026, 11, 1) and not entry.billable


@pytest.mark.parametrize(("arguments", "field"), [
    ({"minutes": 0}, "minutes"),
    ({"minutes": 24 * 60 + 1}, "minutes"),
    ({"minutes": 2**63}, "minutes"),
    ({"minutes": 30, "date": "yesterday"}, "date"),
    ({"minutes": 30, "date": "2999-01-01"}, "date"),
    ({"minutes": 30, "date": ""}, "date"),
    ({"minutes": 30, "agent": 999}, "agent"),
    ({"minutes": 30, "note": "x" * 501}, "note"),
])
def test_bad_time_entries(ticket: Item, agent_actor: Actor, arguments: dict, field: str) -> None:
    with pytest.raises(Invalid) as error:
        log_time(ticket, **arguments, actor=agent_actor)
    assert error.value.field == field and not TimeEntry.objects.exists()


def test_only_the_owner_or_an_admin_changes_an_entry(ticket: Item, agent_actor: Actor, admin_actor: Actor,
                                                     admin: Agent) -> None:
    mine = log_time(ticket, minutes=30, actor=agent_actor)
    theirs = log_time(ticket, minutes=30, actor=admin_actor)
    assert update_time_entry(mine, changes=TimeChanges(minutes=40), actor=agent_actor).minutes == 40
    with pytest.raises(Forbidden):
        update_time_entry(theirs, changes=TimeChanges(minutes=5), actor=agent_actor)
    with pytest.raises(Forbidden):
        delete_time_entry(theirs, actor=agent_actor)
    delete_time_entry(mine, actor=admin_actor)
    assert list(TimeEntry.objects.all()) == [theirs]


def test_totals_per_item_project_and_organization(ticket: Item, agent_actor: Actor) -> None:
    project = create_project("Rollout", actor=agent_actor)
    change_item(ticket, changes=ItemChanges(project=project.pk), actor=agent_actor)
    task = create_task(ItemDraft(title="Internal"), actor=agent_actor)
    log_time(ticket, minutes=30, actor=agent_actor)
    log_time(ticket, minutes=15, billable=False, actor=agent_actor)
    log_time(task, minutes=60, actor=agent_actor)
    entries = time_entry_list()
    assert total_minutes(entries) == (105, 90)
    by_project = {total.label: (total.minutes, total.billable_minutes) for total in time_totals(entries, by="project")}
    assert by_project == {"No project": (60, 60), "Rollout": (45, 30)}
    by_org = {total.label: total.minutes for total in time_totals(entries, by="organization")}
    assert by_org == {"acme.example": 45, "No organization": 60}
    assert [t.minutes for t in time_totals(entries, by="item")] == [60, 45]
    assert total_minutes(time_entry_list(TimeFilters(project=str(project.pk), billable="yes"))) == (30, 30)
    with pytest.raises(Invalid):
        time_entry_list(TimeFilters(date_from="soon"))


def test_csv_lines_neutralise_formulas(ticket: Item, agent_actor: Actor) -> None:
    log_time(ticket, minutes=5, note="=HYPERLINK(\"http://evil\")", actor=agent_actor)
    header, row = list(csv.reader(csv_lines(time_entry_rows(time_entry_list()))))
    assert header[0] == "date" and row[2] == ticket.reference
    assert row[-1] == "'=HYPERLINK(\"http://evil\")" and row[6] == "5"
