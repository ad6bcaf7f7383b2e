"""Rules on projects and on time entries (the timesheet kind), through the project and timesheet
services: what they do, where the run is written, and how a failure stays contained."""

from __future__ import annotations

from typing import Any

from deskhand.agents.models import Agent
from deskhand.audit.queries import history
from deskhand.automations import services
from deskhand.automations.models import Automation
from deskhand.automations.rules import Action, ActionType, Condition, ItemKind, Op, Rule, Trigger, TriggerType
from deskhand.automations.services import create_automation
from deskhand.config.services import update_settings
from deskhand.core.actors import Actor
from deskhand.customers.models import Organization
from deskhand.work.inputs import ItemDraft, ProjectChanges, TimeChanges
from deskhand.work.models import Folder, Item, Message, MessageKind, Project, TimeEntry
from deskhand.work.queries import item_events
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.projects import create_portfolio, create_project, update_project
from deskhand.work.services.timesheets import log_time, update_time_entry

CREATED = Trigger(TriggerType.CREATED)


def rule(admin_actor: Actor, kind: ItemKind, *actions: Action, trigger: Trigger = CREATED,
         all: tuple[Condition, ...] = (), name: str = "Rule") -> Automation:
    return create_automation(Rule(name, kind, trigger, all=all, actions=actions), actor=admin_actor)


def runs(object_type: str, object_id: int) -> list[dict[str, Any]]:
    """Newest first."""
    return [event.changes for event in history(object_type, object_id) if event.action == "automation.ran"]


def test_a_new_customer_project_is_filed_and_gets_its_folders(admin_actor: Actor, agent_actor: Actor,
                                                              acme: Organization) -> None:
    clients = create_portfolio("Clients", actor=admin_actor)
    made = rule(admin_actor, ItemKind.PROJECT, Action(ActionType.SET_FIELD, field="portfolio", value=clients.pk),
                Action(ActionType.ADD_FOLDER, name="Onboarding"), Action(ActionType.ADD_FOLDER, name="Support"),
                all=(Condition("organization", Op.IS_NOT, None),), name="Customer projects")
    project = create_project("Acme rollout", organization=acme, actor=agent_actor)
    internal = create_project("Office move", actor=agent_actor)
    project.refresh_from_db()
    assert project.portfolio == clients
    assert sorted(Folder.objects.filter(project=project).values_list("name", flat=True)) == ["Onboarding", "Support"]
    [run] = runs("project", project.pk)
    assert run["automation"] == made.pk
    assert run["did"] == ["moved to portfolio Clients", "added folder Onboarding", "added folder Support"]
    actors = {e.actor_label for e in history("project", project.pk) if e.action in ("project.updated",)}
    assert actors == {f"Automation “Customer projects” (#{made.pk})"}
    internal.refresh_from_db()
    assert internal.portfolio is None and runs("project", internal.pk) == []


def test_a_project_given_to_an_organization_later_is_filed_too(admin_actor: Actor, agent_actor: Actor,
                                                              acme: Organization) -> None:
    rule(admin_actor, ItemKind.PROJECT, Action(ActionType.ADD_FOLDER, name="Support"),
         trigger=Trigger(TriggerType.CHANGED, field="organization"),
         all=(Condition("organization.name", Op.IS, "acme"),))
    project = create_project("Rollout", actor=agent_actor)
    assert not Folder.objects.filter(project=project).exists()
    update_project(project, changes=ProjectChanges(organization=acme.pk), actor=agent_actor)
    assert list(Folder.objects.filter(project=project).values_list("name", flat=True)) == ["Support"]
    update_project(project, changes=ProjectChanges(organization=None), actor=agent_actor)
    update_project(project, changes=ProjectChanges(organization=acme.pk), actor=agent_actor)
    assert Folder.objects.filter(project=project).count() == 1
    assert [run["did"] for run in runs("project", project.pk)] == [  # newest first
        ["folder Support was there already"], ["added folder Support"]]


def test_a_failing_project_rule_is_logged_and_the_project_stays(admin_actor: Actor, agent_actor: Actor) -> None:
    clients = create_portfolio("Clients", actor=admin_actor)
    made = rule(admin_actor, ItemKind.PROJECT, Action(ActionType.SET_FIELD, field="portfolio", value=clients.pk))
    update_settings({"portfolios_enabled": False}, actor=admin_actor)
    project = create_project("Rollout", actor=agent_actor)
    assert Project.objects.filter(pk=project.pk, portfolio=None).exists()
    [failed] = [e.changes for e in history("project", project.pk) if e.action == "automation.failed"]
    assert "switched off" in failed["error"].lower()
    made.refresh_from_db()
    assert made.failures == 1 and made.enabled


def ticket(actor: Actor, email: str = "zoe@acme.example") -> Item:
    return submit_ticket(ItemDraft(title="Printer on fire", requester_email=email), actor=actor)


def test_time_on_an_organizations_items_is_not_billable_and_the_item_says_why(
        admin_actor: Actor, agent_actor: Actor, agent: Agent, acme: Organization) -> None:
    made = rule(admin_actor, ItemKind.TIMESHEET, Action(ActionType.SET_FIELD, field="billable", value=False),
                Action(ActionType.NOTE, body="{{ time.minutes }} min by {{ time.agent }} on {{ item.reference }} "
                       "are not billed to {{ organization.name }}."),
                all=(Condition("item.organization", Op.IS, acme.pk), Condition("billable", Op.IS, True)),
                name="Acme is on a flat fee")
    item = ticket(agent_actor)
    other = ticket(agent_actor, email="max@globex.example")
    entry = log_time(item, minutes=45, actor=agent_actor)
    billed = log_time(other, minutes=30, actor=agent_actor)
    entry.refresh_from_db()
    billed.refresh_from_db()
    assert entry.billable is False and billed.billable is True
    note = Message.objects.get(item=item, kind=MessageKind.NOTE)
    assert note.body == f"45 min by Ana Agent on {item.reference} are not billed to Acme."
    [run] = [e.changes for e in item_events(item) if e.action == "automation.ran"]
    assert run["time_entry"] == entry.pk and run["automation"] == made.pk
    assert run["did"] == ["marked not billable", "added an internal note"]
    assert not Message.objects.filter(item=other, kind=MessageKind.NOTE).exists()


def test_a_timesheet_rule_reacts_to_a_correction(admin_actor: Actor, agent_actor: Actor) -> None:
    rule(admin_actor, ItemKind.TIMESHEET, Action(ActionType.NOTE, body="Long session: {{ time.minutes }} min."),
         trigger=Trigger(TriggerType.CHANGED, field="minutes"), all=(Condition("minutes", Op.GT, 240),))
    item = ticket(agent_actor)
    entry = log_time(item, minutes=300, actor=agent_actor)
    assert not Message.objects.filter(item=item).exclude(kind=MessageKind.CUSTOMER).exists()
    update_time_entry(entry, changes=TimeChanges(minutes=200), actor=agent_actor)
    update_time_entry(entry, changes=TimeChanges(minutes=360), actor=agent_actor)
    assert list(Message.objects.filter(item=item, kind=MessageKind.NOTE).values_list("body", flat=True)) == [
        "Long session: 360 min."]
    assert TimeEntry.objects.get(pk=entry.pk).minutes == 360


def test_testing_a_project_or_timesheet_rule_changes_nothing(admin_actor: Actor, agent_actor: Actor,
                                                             acme: Organization) -> None:
    project = create_project("Acme rollout", organization=acme, actor=agent_actor)
    draft = Rule("Folders", ItemKind.PROJECT, Trigger(TriggerType.CREATED),
                 all=(Condition("organization", Op.IS, acme.pk), Condition("name", Op.CONTAINS, "migration")),
                 actions=(Action(ActionType.ADD_FOLDER, name="Support"),))
    result = services.test_against_record(draft, project.pk)
    assert result.triggered and not result.matched
    assert [(c.text, c.met) for c in result.checks] == [(f"organization is {acme.pk}", True),
                                                       ("name contains migration", False)]
    entry = log_time(ticket(agent_actor), minutes=20, actor=agent_actor)
    timed = Rule("Short", ItemKind.TIMESHEET, Trigger(TriggerType.CREATED), all=(Condition("minutes", Op.LT, 30),),
                 actions=(Action(ActionType.SET_FIELD, field="billable", value=False),))
    assert services.test_against_record(timed, entry.pk).matched
    assert not Folder.objects.exists() and TimeEntry.objects.get(pk=entry.pk).billable
