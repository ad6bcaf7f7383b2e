"""The automation engine: events → the rules they fire → actions, performed through the
ordinary work services with the rule as actor, in the caller's transaction.

It runs in rounds: the changes a round makes are the next round's update events, so a rule may
react to another rule's work. Each rule fires at most once per item in one run; a rule that its
own round (or a later one) would fire again is stopped and a warning is recorded, so nothing
loops. A rule whose actions fail is rolled back alone (a savepoint), logged on the item, and
switched off after MAX_FAILURES failures in a row; the change that triggered it stands."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Count, F

from deskhand.agents.models import Agent, Team
from deskhand.audit.services import Event, record_many
from deskhand.automations.events import ItemEvent
from deskhand.automations.facts import Facts, changes_between, read_facts
from deskhand.automations.models import Automation
from deskhand.automations.planner import LoadedRule, Planned, plan, triggered
from deskhand.automations.queries import rules_for
from deskhand.automations.rules import Action, ActionType, AssignMode, TriggerType, render_template
from deskhand.core.actors import Actor, ActorKind
from deskhand.core.errors import DomainError
from deskhand.customers.models import Customer
from deskhand.sla.inputs import ClockStart
from deskhand.sla.models import SlaPolicy
from deskhand.sla.services import apply_sla, clock_start
from deskhand.surveys.services import send_surveys
from deskhand.work.inputs import AssigneeRef, ItemChanges
from deskhand.work.models import Assignee, Category, Item, MessageKind, Project
from deskhand.work.models.items import reference
from deskhand.work.services._common import item_event, item_row_event
from deskhand.work.services.items import NewFollower, add_followers, change_item
from deskhand.work.services.messages import NewMessage, add_message, add_messages
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
    if rules is None and all(event.kind for event in events):
        rules = rules_for({event.kind for event in events}, (event.organization_id for event in events))
        if not rules:
            return []
    tested = _tested(rules, events)
    if tested == set() and all(event.kind for event in events):
        # No rule these events trigger tests anything (the sample SLA on every new ticket): no read.
        facts: dict[int, Facts] = {event.item_id: {"kind": event.kind, "organization": event.organization_id}
                                   for event in events}
    else:
        facts = read_facts((event.item_id for event in events), fields=tested, messages=_need_messages(rules))
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
        seen: set[tuple[int, int]] = set()
        for event in events:
            if event.item_id not in facts:
                continue
            for each in plan(facts[event.item_id], event, rules):
                key = (each.rule_id, each.item_id)
                if key in fired:
                    stopped.add(key)
                elif key not in seen:
                    seen.add(key)
                    planned.append(each)
        if not planned:
            break
        # Only rules that change properties can make the next round's events. Their items' facts
        # are whole: a first read narrowed to the tested properties has no changing rule (_tested).
        before = {p.item_id: facts[p.item_id] for p in planned
                  if any(action.type not in UNCHANGING for action in p.actions)}
        fired |= seen
        outcomes += _apply_all(planned)
        after = read_facts(before, messages=_need_messages(rules))
        events = []
        for item_id, old in before.items():
            facts[item_id] = after.get(item_id, old)
            changes = changes_between(old, facts[item_id])
            if changes:
                events.append(ItemEvent(item_id, TriggerType.UPDATED, actor=Actor(ActorKind.RULE, "automations"),
                                        changes=changes))
        if not events:
            break
    _record_stops(stopped, rules)
    return outcomes


def _tested(rules: Sequence[LoadedRule] | None, events: Sequence[ItemEvent]) -> set[str] | None:
    """The properties the rules these events trigger test: all the planner needs to read. None
    (read everything) when the rules are not known yet, or when one of them changes properties:
    its items are then read in full before and after anyway, for the next round's events."""
    if rules is None:
        return None
    candidates = [loaded for loaded in rules if any(triggered(loaded.rule, event, loaded.id) for event in events)]
    if any(action.type not in UNCHANGING for loaded in candidates for action in loaded.rule.actions):
        return None
    return {condition.field for loaded in candidates for condition in (*loaded.rule.all, *loaded.rule.any)}


def _need_messages(rules: Sequence[LoadedRule] | None) -> bool:
    """Whether a condition reads the latest message (the rules unknown yet: assume so)."""
    return rules is None or any(condition.field in ("text", "message")
                                for loaded in rules for condition in (*loaded.rule.all, *loaded.rule.any))


def _record_stops(stopped: set[tuple[int, int]], rules: Sequence[LoadedRule]) -> None:
    names = {loaded.id: loaded.rule.name for loaded in rules}
    items = Item.objects.in_bulk({item_id for _rule, item_id in stopped}) if stopped else {}
    record_many([item_event(items[item_id], "automation.stopped", actor=rule_actor(rule_id, names[rule_id]),
                            changes={"automation": rule_id, "name": names[rule_id],
                                     "warning": "It would have run again on its own changes; it ran once."})
                 for rule_id, item_id in sorted(stopped) if item_id in items])


# Actions with a batch service: a rule that fires for a whole batch of mail applies them at once.
BATCHED = {ActionType.APPLY_SLA, ActionType.SEND_SURVEY, ActionType.NOTE, ActionType.ADD_FOLLOWER}
# Actions that change no property a condition watches (followers and messages are not watched).
UNCHANGING = {*BATCHED, ActionType.REPLY}


def _apply_all(planned: Sequence[Planned]) -> list[Outcome]:
    """Each rule's runs of this round, in rule order. A rule whose actions all have a batch form
    runs for its items at once; if that fails, each item runs alone, so that only the item the
    rule fails on is logged as failed."""
    by_rule: dict[int, list[Planned]] = {}
    for each in planned:
        by_rule.setdefault(each.rule_id, []).append(each)
    outcomes: list[Outcome] = []
    for group in by_rule.values():
        if len(group) > 1 and all(action.type in BATCHED for action in group[0].actions):
            try:
                outcomes += _apply_batch(group)
                continue
            except Exception:  # noqa: BLE001 - isolated below, item by item
                log.info("automation %s: batch of %d failed, running item by item", group[0].rule_id, len(group))
        outcomes += [_apply(each) for each in group]
    return outcomes


def _apply_batch(group: Sequence[Planned]) -> list[Outcome]:
    first = group[0]
    actor = rule_actor(first.rule_id, first.name)
    ids = [p.item_id for p in group]
    batch: list[Item] = []
    if any(action.type != ActionType.APPLY_SLA for action in first.actions):
        # What the batch services and the placeholders read, and no more: a batch of mail is 200 items.
        items = Item.objects.select_related("requester", "organization", "status").only(
            "id", "kind", "title", "priority", "created_at", "requester_id", "organization_id", "status_id",
            "requester__email", "requester__name", "organization__name", "status__key", "status__label",
            "status__category").in_bulk(ids)
        batch = [items[item_id] for item_id in ids]
    # Rows, not items, for the clocks and the run entries: the sample SLA on every new ticket
    # starts 200 clocks for a batch of mail.
    rows = {pk: (title, ClockStart(item_id=pk, created_at=created_at, priority=priority,
                                   done=category == Category.DONE, label=f"{reference(pk)} {title}"))
            for pk, title, created_at, priority, category in Item.objects.filter(pk__in=ids).values_list(
                "id", "title", "created_at", "priority", "status__category")}
    done: list[str] = []
    with transaction.atomic():
        for action in first.actions:
            if action.type == ActionType.APPLY_SLA:
                assert action.sla is not None  # check_rule saw to it
                policy = SlaPolicy.objects.get(pk=action.sla)
                apply_sla([rows[pk][1] for pk in ids], policy=policy, actor=actor)
                done.append(f"SLA {policy.name} applied")
            elif action.type == ActionType.SEND_SURVEY:
                send_surveys(batch, actor=actor)
                done.append("satisfaction survey sent")
            elif action.type == ActionType.NOTE:
                add_messages([NewMessage(item=item, kind=MessageKind.NOTE, body=render_template(
                    action.body, template_values(item)), actor=actor) for item in batch])
                done.append("added an internal note")
            elif action.type == ActionType.ADD_FOLLOWER:
                customer = Customer.objects.get(pk=action.customer) if action.customer is not None else None
                agent = Agent.objects.get(pk=action.agent) if action.agent is not None else None
                add_followers([NewFollower(item=item, actor=actor, customer=customer, agent=agent) for item in batch])
                person = customer or agent
                done.append(f"added follower {person.email if person else ''}")
        Automation.objects.filter(pk=first.rule_id, failures__gt=0).update(failures=0, last_error="")
        # Most runs of a batch matched the same way: one entry, written on every item's history.
        entries: dict[tuple[str, ...], dict[str, Any]] = {}
        record_many([item_row_event(p.item_id, rows[p.item_id][0], RUN_ACTION, actor=actor, changes=_entry(
            entries, p, done)) for p in group])
    return [Outcome(p, done) for p in group]


def _entry(entries: dict[tuple[str, ...], dict[str, Any]], planned: Planned, done: list[str]) -> dict[str, Any]:
    matched = tuple(check.text for check in planned.checks if check.met) or ("no conditions",)
    if matched not in entries:
        entries[matched] = {"automation": planned.rule_id, "name": planned.name, "matched": list(matched),
                            "did": done}
    return entries[matched]


def _apply(planned: Planned) -> Outcome:
    actor = rule_actor(planned.rule_id, planned.name)
    item = Item.objects.select_related("requester", "organization", "status").get(pk=planned.item_id)

    def perform(action: Action) -> str:
        text = _perform(action, item, actor, planned.rule_id)
        item.refresh_from_db()
        return text

    def history(action: str, changes: dict[str, Any]) -> Event:
        return item_event(item, action, actor=actor, changes=changes)

    return run_logged(planned, perform, history)


def run_logged(planned: Planned, perform: Callable[[Action], str],
               history: Callable[[str, dict[str, Any]], Event]) -> Outcome:
    """Perform a rule's actions in a savepoint and write the run (or the failure) with `history`.
    A failure rolls back this rule's actions only, counts towards switching it off, and never
    reaches the change that triggered it."""
    done: list[str] = []
    try:
        with transaction.atomic():
            for action in planned.actions:
                text = perform(action)
                if text:
                    done.append(text)
    except Exception as exc:  # noqa: BLE001 - a failing rule never blocks the change that triggered it
        message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, DomainError | DatabaseError | LookupError):
            log.warning("automation %s failed on %s: %s", planned.rule_id, planned.item_id, message)
        else:
            log.exception("automation %s failed on %s", planned.rule_id, planned.item_id)
        _failed(planned, history, message)
        return Outcome(planned, (), error=message)
    Automation.objects.filter(pk=planned.rule_id, failures__gt=0).update(failures=0, last_error="")
    record_many([history(RUN_ACTION, {
        "automation": planned.rule_id, "name": planned.name,
        "matched": [check.text for check in planned.checks if check.met] or ["no conditions"],
        "did": done or ["nothing to change"]})])
    return Outcome(planned, done)


def _failed(planned: Planned, history: Callable[[str, dict[str, Any]], Event], message: str) -> None:
    Automation.objects.filter(pk=planned.rule_id).update(failures=F("failures") + 1, last_error=message[:500])
    disabled = Automation.objects.filter(pk=planned.rule_id, failures__gte=MAX_FAILURES, enabled=True).update(
        enabled=False)
    record_many([history("automation.failed", {
        "automation": planned.rule_id, "name": planned.name, "error": message[:500],
        **({"disabled": f"Switched off after {MAX_FAILURES} failures in a row."} if disabled else {})})])


def template_values(item: Item) -> dict[str, str]:
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


def _perform(action: Action, item: Item, actor: Actor, rule_id: int) -> str:
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
        apply_sla([clock_start(Item.objects.select_related("status").get(pk=item.pk))], policy=policy, actor=actor)
        return f"SLA {policy.name} applied"
    if kind == ActionType.SEND_SURVEY:
        if item.requester is None:
            return "no requester to survey"
        send_surveys([item], actor=actor)
        return f"satisfaction survey sent to {item.requester.email}"
    if kind in (ActionType.REPLY, ActionType.NOTE):
        if kind == ActionType.REPLY and item.requester is None:
            return "no requester to reply to"
        body = render_template(action.body, template_values(item))
        add_message(item, kind=MessageKind.REPLY if kind == ActionType.REPLY else MessageKind.NOTE, body=body,
                    actor=actor)
        return "replied to the requester" if kind == ActionType.REPLY else "added an internal note"
    raise ValueError(f"unknown action {kind}")

