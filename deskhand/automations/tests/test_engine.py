"""The engine through the work services: what fires when, what it does, and how it stops."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.agents.models import Agent, Team
from deskhand.audit.models import AuditEvent
from deskhand.automations.models import Automation
from deskhand.automations.rules import (
    Action,
    ActionType,
    AssignMode,
    Condition,
    ItemKind,
    Op,
    Rule,
    Trigger,
    TriggerType,
)
from deskhand.automations.services import create_automation
from deskhand.core.actors import Actor
from deskhand.customers.models import Organization
from deskhand.work.inputs import ItemChanges, ItemDraft
from deskhand.work.models import Item, Message, MessageKind, Project
from deskhand.work.queries import item_events
from deskhand.work.services.items import change_item, submit_ticket
from deskhand.work.services.messages import add_message

CREATED = Trigger(TriggerType.CREATED)


def automation(admin_actor: Actor, *actions: Action, trigger: Trigger = CREATED, name: str = "Rule",
               all: tuple[Condition, ...] = (), kind: ItemKind = ItemKind.TICKET) -> Automation:
    return create_automation(Rule(name, kind, trigger, all=all, actions=actions), actor=admin_actor)


def ticket(actor: Actor, email: str = "zoe@acme.example", **values: Any) -> Item:
    return submit_ticket(ItemDraft(title=values.pop("title", "Printer on fire"), requester_email=email, **values),
                         actor=actor)


def runs(item: Item) -> list[dict[str, Any]]:
    return [event.changes for event in item_events(item) if event.action == "automation.ran"]


def test_a_new_ticket_is_routed_and_the_run_says_why(admin_actor: Actor, agent_actor: Actor, agent: Agent,
                                                     acme: Organization) -> None:
    rule = automation(admin_actor, Action(ActionType.ASSIGN, agent=agent.pk),
                      Action(ActionType.SET_PRIORITY, value="high"),
                      name="Acme to Ana", all=(Condition("organization", Op.IS, acme.pk),))
    item = ticket(agent_actor)
    other = ticket(agent_actor, email="max@globex.example")
    item.refresh_from_db()
    assert item.priority_key == "high" and list(item.assignees.values_list("agent", flat=True)) == [agent.pk]
    [run] = runs(item)
    assert run["automation"] == rule.pk and run["name"] == "Acme to Ana"
    assert run["matched"] == [f"organization is {acme.pk}"]
    assert run["did"] == ["assigned to Ana Agent", "priority set to high"]
    changes = [e for e in item_events(item) if e.action == "ticket.updated"]
    assert changes and all(e.actor_kind == "rule" and "Acme to Ana" in e.actor_label for e in changes)
    assert runs(other) == [] and other.assignees.count() == 0


def test_changed_and_replied_triggers(admin_actor: Actor, agent_actor: Actor) -> None:
    automation(admin_actor, Action(ActionType.NOTE, body="Waiting on {{ requester.email }} for {{ item.reference }}."),
               trigger=Trigger(TriggerType.CHANGED, field="status", to_value="pending"), name="Note pending")
    automation(admin_actor, Action(ActionType.SET_STATUS, value="open"),
               trigger=Trigger(TriggerType.CUSTOMER_REPLIED), name="Reopen on reply",
               all=(Condition("status_category", Op.IN, ["pending", "done"]),))
    item = ticket(agent_actor)
    change_item(item, changes=ItemChanges(status="pending"), actor=agent_actor)
    note = Message.objects.get(item=item, kind=MessageKind.NOTE)
    assert note.body == f"Waiting on zoe@acme.example for {item.reference}."
    add_message(item, kind=MessageKind.CUSTOMER, body="Still broken.", actor=Actor.customer("zoe@acme.example"))
    item.refresh_from_db()
    assert item.status.key == "open"
    assert [run["name"] for run in runs(item)] == ["Note pending", "Reopen on reply"]


def test_rules_react_to_each_other_in_rounds_and_never_loop(admin_actor: Actor, agent_actor: Actor) -> None:
    automation(admin_actor, Action(ActionType.SET_PRIORITY, value="urgent"), name="Urgent on open",
               trigger=Trigger(TriggerType.CHANGED, field="status", to_value="open"))
    automation(admin_actor, Action(ActionType.SET_STATUS, value="pending"), name="Pending when urgent",
               trigger=Trigger(TriggerType.CHANGED, field="priority", to_value="urgent"))
    automation(admin_actor, Action(ActionType.SET_STATUS, value="open"), name="Open when pending",
               trigger=Trigger(TriggerType.CHANGED, field="status", to_value="pending"))
    item = ticket(agent_actor)
    change_item(item, changes=ItemChanges(status="open"), actor=agent_actor)
    item.refresh_from_db()
    assert [run["name"] for run in runs(item)] == ["Urgent on open", "Pending when urgent", "Open when pending"]
    assert item.status.key == "open" and item.priority_key == "urgent"
    stopped = [e.changes for e in item_events(item) if e.action == "automation.stopped"]
    assert [s["name"] for s in stopped] == ["Urgent on open"]


def test_a_rule_reacts_to_a_change_made_by_a_rule_that_read_only_what_it_tests(
        admin_actor: Actor, agent_actor: Actor, acme: Organization) -> None:
    """The first rule's facts hold only the title; the item is read in full around its change, so
    the second rule sees the change and tests the requester's organization."""
    automation(admin_actor, Action(ActionType.SET_PRIORITY, value="urgent"), name="Outages are urgent",
               all=(Condition("title", Op.CONTAINS, "outage"),))
    automation(admin_actor, Action(ActionType.NOTE, body="Call {{ organization.name }}."), name="Call Acme",
               trigger=Trigger(TriggerType.CHANGED, field="priority", to_value="urgent"),
               all=(Condition("organization.name", Op.IS, "Acme"),))
    item = ticket(agent_actor, title="Outage in Oslo")
    calm = ticket(agent_actor, title="A question")
    assert [run["name"] for run in runs(item)] == ["Outages are urgent", "Call Acme"]
    assert Message.objects.get(item=item, kind=MessageKind.NOTE).body == "Call Acme."
    assert runs(calm) == []


def test_a_failing_rule_is_logged_switched_off_and_never_blocks(admin_actor: Actor, agent_actor: Actor,
                                                                acme: Organization) -> None:
    from deskhand.work.services.projects import create_project

    project = create_project("Doomed", actor=admin_actor)
    rule = automation(admin_actor, Action(ActionType.MOVE_TO_PROJECT, project=project.pk), name="Into Doomed")
    Project.objects.filter(pk=project.pk).delete()  # the rule now names a project that is gone
    for number in range(3):
        item = ticket(agent_actor, title=f"Ticket {number}")
        assert Item.objects.filter(pk=item.pk).exists() and item.project is None
        [failure] = [e.changes for e in item_events(item) if e.action == "automation.failed"]
        assert "no project" in failure["error"]
    assert "disabled" in failure
    rule.refresh_from_db()
    assert not rule.enabled and rule.failures == 3
    later = ticket(agent_actor, title="After")
    assert not [e for e in item_events(later) if e.action.startswith("automation.")]


def test_team_assignment_in_turn_and_by_workload(admin_actor: Actor, agent_actor: Actor, first_line: Team,
                                                 agent: Agent, bea: Agent) -> None:
    automation(admin_actor, Action(ActionType.ASSIGN, team=first_line.pk, mode=AssignMode.ROUND_ROBIN),
               name="Round robin")
    assigned = []
    for number in range(4):
        item = ticket(agent_actor, title=f"T{number}")
        assigned.append(set(item.assignees.values_list("agent", "team")))
    agents = [next(a for a, _t in pair if a) for pair in (sorted(x, key=lambda r: r[0] or 0, reverse=True)
                                                         for x in assigned)]
    assert agents == [agent.pk, bea.pk, agent.pk, bea.pk]


def test_customer_project_is_made_once_and_reused(admin_actor: Actor, agent_actor: Actor,
                                                  acme: Organization) -> None:
    automation(admin_actor, Action(ActionType.CUSTOMER_PROJECT), name="Customer project")
    first, second = ticket(agent_actor), ticket(agent_actor, email="max@acme.example")
    lone = ticket(agent_actor, email="someone@gmail.com")
    [project] = Project.objects.filter(organization=acme)
    assert project.name == "Acme"
    assert Item.objects.get(pk=first.pk).project == project == Item.objects.get(pk=second.pk).project
    assert Item.objects.get(pk=lone.pk).project is None


def test_rule_changes_do_not_trigger_a_second_engine_and_tasks_keep_to_task_rules(
        admin_actor: Actor, agent_actor: Actor) -> None:
    from deskhand.work.services.items import create_task

    automation(admin_actor, Action(ActionType.NOTE, body="Task rule"), name="Tasks only", kind=ItemKind.TASK)
    item = ticket(agent_actor)
    task = create_task(ItemDraft(title="Internal"), actor=agent_actor)
    assert runs(item) == [] and [r["name"] for r in runs(task)] == ["Tasks only"]


@pytest.mark.parametrize("count", [1, 30])
def test_rules_are_read_once_per_batch(admin_actor: Actor, agent_actor: Actor, count: int,
                                       django_assert_max_num_queries: Any) -> None:
    from deskhand.core.actors import SYSTEM
    from deskhand.customers.services import create_organization, find_or_create_customer
    from deskhand.work.services.items import NewItem, create_items

    for number in range(30):
        organization = create_organization(f"Org {number}", actor=SYSTEM)
        automation(admin_actor, Action(ActionType.NOTE, body="x"), name=f"Routing {number}",
                   all=(Condition("organization", Op.IS, organization.pk),))
    customer, _ = find_or_create_customer("zoe@acme.example", source="agent", actor=agent_actor)
    batch = [NewItem(kind="ticket", title=f"T{n}", requester=customer, actor=agent_actor) for n in range(count)]
    with django_assert_max_num_queries(12):
        create_items(batch)
    assert AuditEvent.objects.filter(action="automation.ran").count() == 0



def test_a_rule_fires_for_a_whole_batch_at_once(admin_actor: Actor, agent_actor: Actor,
                                                django_assert_max_num_queries: Any) -> None:
    from deskhand.customers.services import find_or_create_customer
    from deskhand.sla.inputs import PolicyInput, TargetInput
    from deskhand.sla.models import ItemSla
    from deskhand.sla.services import create_policy
    from deskhand.work.services.items import NewItem, create_items

    policy = create_policy(PolicyInput("Standard", [TargetInput("normal", 60, 480)]), actor=admin_actor)
    automation(admin_actor, Action(ActionType.APPLY_SLA, sla=policy.pk), Action(ActionType.NOTE, body="Seen"),
               name="SLA and a note")
    customer, _ = find_or_create_customer("zoe@acme.example", source="agent", actor=agent_actor)
    for count in (2, 40):
        batch = [NewItem(kind="ticket", title=f"T{n}", requester=customer, actor=agent_actor) for n in range(count)]
        with django_assert_max_num_queries(40):
            items = create_items(batch)
        assert ItemSla.objects.filter(item__in=items).count() == count
        assert Message.objects.filter(item__in=items, kind=MessageKind.NOTE).count() == count
        assert all(runs(item)[0]["did"] == ["SLA Standard applied", "added an internal note"] for item in items)
