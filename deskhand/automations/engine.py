"""The automation engine: events → the rules they fire → actions, performed through the
ordinary work services with the rule as actor, in the caller's transaction.

It runs in rounds: the changes a round makes are the next round's update events, so a rule may
react to another rule's work. Each rule fires at most once per item in one run; a rule that its
own round (or a later one) would fire again is stopped and a warning is recorded, so nothing
loops. A rule whose actions fail is rolled back alone (a savepoint), logged on the item, and
switched off after MAX_FAILURES failures in a row; the change that triggered it stands."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.db.models import Count, F

from deskhand.agents.models import Agent, Team
from deskhand.audit.services import record_many
from deskhand.automations.events import ItemEvent
from deskhand.automations.facts import Facts, changes_between, read_facts
from deskhand.automations.models import Automation
from deskhand.automations.planner import LoadedRule, Planned, plan
from deskhand.automations.queries import rules_for
from deskhand.automations.rules import Action, ActionType, AssignMode, TriggerType, render_template
from deskhand.core.actors import Actor, ActorKind
from deskhand.core.errors import DomainError
from deskhand.customers.models import Customer
from deskhand.sla.models import SlaPolicy
from deskhand.sla.services import apply_sla
from deskhand.surveys.services import send_surveys
from deskhand.work.inputs import AssigneeRef, ItemChanges
from deskhand.work.models import Assignee, Category, Item, MessageKind, Project
from deskhand.work.services._common import item_event
from deskhand.work.services.items import NewFollower, add_followers, change_item
from deskhand.work.services.messages import add_message
from deskhand.work.services.projects import create_project

log = logging.getLogger("deskhand.automations")

MAX_ROUNDS = 5
MAX_FAILURES = 3
RUN_ACTION = "automation.ran"


@dataclass(frozen=True)
class Outcome:
    """What one rule did to one item (or why it did not)."""

    planned: Planned
    done: Sequence[str]
    error: str = ""


def rule_actor(rule_id: int, name: str) -> Actor:
    return Actor(ActorKind.RULE, label=f"Automation “{name}” (#{rule_id})")


def run(events: Sequence[ItemEvent], *, rules: Sequence[LoadedRule] | None = None) -> list[Outcome]:
    """Plan and perform what `events` fire. Events caused by rules are not handed in: the engine
    follows its own changes round by round. Returns what happened, for tests and the editor."""
    events = [event for event in events if event.actor.kind != ActorKind.RULE]
    if not events:
        return []
    facts = read_facts(event.item_id for event in events)
    if rules is None:
        kinds = {f["kind"] for f in facts.values()}
        rules = rules_for(kinds, (f["organization"] for f in facts.values()))
    if not rules:
        return []
    outcomes: list[Outcome] = []
    fired: set[tuple[int, int]] = set()
    stopped: set[tuple[int, int]] = set()
    for _round in range(MAX_ROUNDS):
        planned: list[Planned] = []
        for event in events:
            if event.item_id not in facts:
                continue
            for each in plan(facts[event.item_id], event, rules):
                key = (each.rule_id, each.item_id)
                if key in fired:
                    stopped.add(key)
                elif key not in {(p.rule_id, p.item_id) for p in planned}:
                    planned.append(each)
        if not planned:
            break
        before = {p.item_id: facts[p.item_id] for p in planned}
        for each in planned:
            fired.add((each.rule_id, each.item_id))
            outcomes.append(_apply(each, facts[each.item_id]))
        after = read_facts(before)
        events = []
        for item_id, old in before.items():
            facts[item_id] = after.get(item_id, old)
            changes = changes_between(old, facts[item_id])
            if changes:
                events.append(ItemEvent(item_id, TriggerType.UPDATED, actor=Actor(ActorKind.RULE, "automations"),
                                        changes=changes))
        if not events:
            break
    _record_stops(stopped, rules, facts)
    return outcomes


def _record_stops(stopped: set[tuple[int, int]], rules: Sequence[LoadedRule], facts: dict[int, Facts]) -> None:
    names = {loaded.id: loaded.rule.name for loaded in rules}
    items = Item.objects.in_bulk({item_id for _rule, item_id in stopped}) if stopped else {}
    record_many([item_event(items[item_id], "automation.stopped", actor=rule_actor(rule_id, names[rule_id]),
                            changes={"automation": rule_id, "name": names[rule_id],
                                     "warning": "It would have run again on its own changes; it ran once."})
                 for rule_id, item_id in sorted(stopped) if item_id in items])


def _apply(planned: Planned, facts: Facts) -> Outcome:
    actor = rule_actor(planned.rule_id, planned.name)
    item = Item.objects.select_related("requester", "organization", "status").get(pk=planned.item_id)
    done: list[str] = []
    try:
        with transaction.atomic():
            for action in planned.actions:
                text = _perform(action, item, facts, actor, planned.rule_id)
                if text:
                    done.append(text)
                item.refresh_from_db()
    except Exception as exc:  # noqa: BLE001 - a failing rule never blocks the change that triggered it
        message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, DomainError | DatabaseError | LookupError):
            log.warning("automation %s failed on item %s: %s", planned.rule_id, planned.item_id, message)
        else:
            log.exception("automation %s failed on item %s", planned.rule_id, planned.item_id)
        _failed(planned, item, actor, message)
        return Outcome(planned, (), error=message)
    Automation.objects.filter(pk=planned.rule_id, failures__gt=0).update(failures=0, last_error="")
    record_many([item_event(item, RUN_ACTION, actor=actor, changes={
        "automation": planned.rule_id, "name": planned.name,
        "matched": [check.text for check in planned.checks if check.met] or ["no conditions"],
        "did": done or ["nothing to change"]})])
    return Outcome(planned, done)


def _failed(planned: Planned, item: Item, actor: Actor, message: str) -> None:
    Automation.objects.filter(pk=planned.rule_id).update(failures=F("failures") + 1, last_error=message[:500])
    disabled = Automation.objects.filter(pk=planned.rule_id, failures__gte=MAX_FAILURES, enabled=True).update(
        enabled=False)
    record_many([item_event(item, "automation.failed", actor=actor, changes={
        "automation": planned.rule_id, "name": planned.name, "error": message[:500],
        **({"disabled": f"Switched off after {MAX_FAILURES} failures in a row."} if disabled else {})})])


def _template_values(item: Item) -> dict[str, str]:
    requester, organization = item.requester, item.organization
    return {
        "item.reference": item.reference, "item.title": item.title, "item.status": item.status.label,
        "item.priority": item.get_priority_display(),
        "requester.name": (requester.name or requester.email) if requester else "",
        "requester.email": requester.email if requester else "",
        "organization.name": organization.name if organization else "",
    }


def _pick_agent(action: Action, rule_id: int) -> Agent | None:
    """Round robin: the member after the one this rule assigned last. Least busy: the member with
    the fewest open items assigned."""
    members = list(Agent.objects.filter(teams=action.team, is_active=True).order_by("id"))
    if not members:
        return None
    if action.mode == AssignMode.ROUND_ROBIN:
        last = Automation.objects.filter(pk=rule_id).values_list("last_assigned_agent_id", flat=True).first()
        following = [agent for agent in members if last is None or agent.pk > last]
        chosen = (following or members)[0]
        Automation.objects.filter(pk=rule_id).update(last_assigned_agent_id=chosen.pk)
        return chosen
    load = dict(Assignee.objects.filter(agent__in=members).exclude(item__status__category=Category.DONE)
                .values("agent_id").annotate(n=Count("id")).values_list("agent_id", "n"))
    return min(members, key=lambda agent: (load.get(agent.pk, 0), agent.pk))


def _customer_project(item: Item, actor: Actor) -> Project | None:
    organization = item.organization
    if organization is None:
        return None
    project = Project.objects.filter(organization=organization).order_by("id").first()
    if project is not None:
        return project
    name = organization.name
    if Project.objects.filter(name__iexact=name).exists():
        name = f"{organization.name} (customer)"
    return create_project(name, organization=organization, actor=actor)


def _perform(action: Action, item: Item, facts: Facts, actor: Actor, rule_id: int) -> str:
    """One action through the work services; returns what it did, in words ("" for nothing)."""
    kind = action.type
    if kind == ActionType.ASSIGN:
        if action.agent is not None:
            change_item(item, changes=ItemChanges(assignees=[AssigneeRef("agent", action.agent)]), actor=actor)
            return f"assigned to {Agent.objects.get(pk=action.agent).display_name}"
        assert action.team is not None
        team = Team.objects.get(pk=action.team)
        if action.mode == AssignMode.TEAM:
            change_item(item, changes=ItemChanges(assignees=[AssigneeRef("team", action.team)]), actor=actor)
            return f"assigned to team {team.name}"
        agent = _pick_agent(action, rule_id)
        refs = [AssigneeRef("team", action.team)] + ([AssigneeRef("agent", agent.pk)] if agent else [])
        change_item(item, changes=ItemChanges(assignees=refs), actor=actor)
        way = "in turn" if action.mode == AssignMode.ROUND_ROBIN else "least busy"
        return f"assigned to team {team.name}" + (f" and {agent.display_name} ({way})" if agent else "")
    if kind == ActionType.SET_STATUS:
        change_item(item, changes=ItemChanges(status=str(action.value)), actor=actor)
        return f"status set to {action.value}"
    if kind == ActionType.SET_PRIORITY:
        change_item(item, changes=ItemChanges(priority=str(action.value)), actor=actor)
        return f"priority set to {action.value}"
    if kind == ActionType.SET_FIELD:
        change_item(item, changes=ItemChanges(custom_fields={action.field: action.value}), actor=actor)
        return f"{action.field} set to {action.value}"
    if kind == ActionType.MOVE_TO_PROJECT:
        change_item(item, changes=ItemChanges(project=action.project, folder=action.folder), actor=actor)
        item.refresh_from_db(fields=["project"])
        return f"moved to project {item.project.name if item.project else ''}"
    if kind == ActionType.CUSTOMER_PROJECT:
        project = _customer_project(item, actor)
        if project is None:
            return "no organization, so no customer project"
        change_item(item, changes=ItemChanges(project=project.pk), actor=actor)
        return f"moved to the customer project {project.name}"
    if kind == ActionType.ADD_FOLLOWER:
        customer = Customer.objects.get(pk=action.customer) if action.customer is not None else None
        agent = Agent.objects.get(pk=action.agent) if action.agent is not None else None
        add_followers([NewFollower(item=item, actor=actor, customer=customer, agent=agent)])
        person = customer or agent
        return f"added follower {person.email if person else ''}"
    if kind == ActionType.APPLY_SLA:
        assert action.sla is not None  # check_rule saw to it
        policy = SlaPolicy.objects.get(pk=action.sla)
        apply_sla([Item.objects.select_related("status").get(pk=item.pk)], policy=policy, actor=actor)
        return f"SLA {policy.name} applied"
    if kind == ActionType.SEND_SURVEY:
        if item.requester is None:
            return "no requester to survey"
        send_surveys([item], actor=actor)
        return f"satisfaction survey sent to {item.requester.email}"
    if kind in (ActionType.REPLY, ActionType.NOTE):
        if kind == ActionType.REPLY and item.requester is None:
            return "no requester to reply to"
        body = render_template(action.body, _template_values(item))
        add_message(item, kind=MessageKind.REPLY if kind == ActionType.REPLY else MessageKind.NOTE, body=body,
                    actor=actor)
        return "replied to the requester" if kind == ActionType.REPLY else "added an internal note"
    raise ValueError(f"unknown action {kind}")

