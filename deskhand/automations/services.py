"""Writes of automations: create, change, reorder, delete, an organization's routing section,
and the editor's dry run. Only admins change automations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext

from deskhand.agents.models import Agent, Team
from deskhand.audit.services import diff, record
from deskhand.automations.events import ItemEvent
from deskhand.automations.facts import Facts, read_facts, read_project_facts, read_time_facts
from deskhand.automations.inputs import AutomationChanges
from deskhand.automations.models import Automation
from deskhand.automations.planner import Check, evaluate, triggered
from deskhand.automations.queries import loaded
from deskhand.automations.rules import (
    ITEM_KINDS,
    SETTABLE,
    Action,
    ActionType,
    Condition,
    ItemKind,
    Op,
    Rule,
    Trigger,
    TriggerType,
    check_rule,
)
from deskhand.automations.stored import action_json, rule_json
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.core.inputs import UNSET
from deskhand.customers.models import Customer, Organization
from deskhand.fields.models import CustomField
from deskhand.sla.models import SlaPolicy
from deskhand.work.models import Channel, Folder, Item, Portfolio, Priority, Project, Status

ROUTING_NAME = "Routing: {name}"


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can change automations."))


def _exists(model: type, pk: object, *, field: str, what: str, **extra: object) -> None:
    if not isinstance(pk, int) or isinstance(pk, bool) or not model.objects.filter(pk=pk, **extra).exists():  # type: ignore[attr-defined]
        raise Invalid(f"unknown_{what}", f"There is no {what} {pk}.", field=field)


def _check_keys(kind: str, name: str, values: list[object], field: str) -> None:
    if kind == ItemKind.TIMESHEET:  # the item the time was logged on: a ticket or a task
        if name == "item.kind":
            name, known = "kind", {ItemKind.TICKET.value, ItemKind.TASK.value}
            _check_known(name, values, known, field)
            return
        name = name.removeprefix("item.")
        if name == "status":
            _check_known(name, values, set(Status.objects.values_list("key", flat=True)), field)
            return
    elif kind == ItemKind.PROJECT:
        return
    if name == "status":
        known = set(Status.objects.filter(kind=kind).values_list("key", flat=True))
    elif name == "priority":
        known = {priority.key for priority in Priority}
    elif name == "channel":
        known = set(Channel.values)
    elif name == "status_category":
        known = {"new", "open", "pending", "done"}
    else:
        return
    _check_known(name, values, known, field)


def _check_known(name: str, values: list[object], known: set[str], field: str) -> None:
    for value in values:
        if value not in known:
            raise Invalid("unknown_value", f"“{value}” is not a {name}; one of {', '.join(sorted(known))}.",
                          field=field)


def _check_records(rule: Rule) -> None:
    """The records a rule names exist (and fit its item kind)."""
    kind = rule.item_kind
    for where, conditions in (("conditions.all", rule.all), ("conditions.any", rule.any)):
        for index, condition in enumerate(conditions):
            at = f"{where}.{index}.value"
            values = condition.value if isinstance(condition.value, list) else [condition.value]
            if condition.op in (Op.IS_EMPTY, Op.CHANGED) or condition.value is None:
                continue
            _check_keys(kind, condition.field, values, at)
            name = condition.field.removeprefix("item.") if kind == ItemKind.TIMESHEET else condition.field
            model = _REFERENCES.get((kind, name))
            if model is not None:
                for value in values:
                    _exists(model, value, field=at, what=model.__name__.lower())
            applies_to = [ItemKind.TICKET, ItemKind.TASK] if kind == ItemKind.TIMESHEET else [kind]
            if name.startswith("custom_fields.") and not CustomField.objects.filter(
                    applies_to__in=applies_to, key=name.removeprefix("custom_fields.")).exists():
                raise Invalid("unknown_field", gettext("There is no %(kind)s field “%(field)s”.") % {"kind": kind, "field": condition.field},
                              field=f"{where}.{index}.field")
    if rule.trigger.type == TriggerType.CHANGED and rule.trigger.field in ("status", "priority"):
        for value in (rule.trigger.from_value, rule.trigger.to_value):
            if value is not None:
                _check_keys(kind, rule.trigger.field, [value], "trigger.to")
    for index, action in enumerate(rule.actions):
        _check_action_records(action, kind, f"actions.{index}")


# Conditions naming a record: it exists when the rule is saved (`organization is 7`).
_REFERENCES: dict[tuple[str, str], type[Organization | Portfolio | Agent]] = {
    **{(kind, "organization"): Organization for kind in ItemKind},
    (ItemKind.PROJECT, "portfolio"): Portfolio,
    (ItemKind.TIMESHEET, "agent"): Agent,
}


def _check_action_records(action: Action, kind: str, at: str) -> None:
    if action.type == ActionType.SET_FIELD and kind in SETTABLE:
        if kind == ItemKind.PROJECT and action.value is not None:
            _exists(Portfolio, action.value, field=f"{at}.value", what="portfolio")
        return
    if action.type in (ActionType.ASSIGN, ActionType.ADD_FOLLOWER) and action.agent is not None:
        _exists(Agent, action.agent, field=f"{at}.agent", what="agent", is_active=True)
    if action.type == ActionType.ASSIGN and action.team is not None:
        _exists(Team, action.team, field=f"{at}.team", what="team")
    if action.type == ActionType.ADD_FOLLOWER and action.customer is not None:
        _exists(Customer, action.customer, field=f"{at}.customer", what="customer")
    if action.type == ActionType.SET_STATUS:
        _check_keys(kind, "status", [action.value], f"{at}.value")
    if action.type == ActionType.SET_PRIORITY:
        _check_keys(kind, "priority", [action.value], f"{at}.value")
    if action.type == ActionType.SET_FIELD:
        from deskhand.fields.services import clean_values

        if not CustomField.objects.filter(applies_to=kind, key=action.field).exists():
            raise Invalid("unknown_field", gettext("There is no %(kind)s field “%(field)s”.") % {"kind": kind, "field": action.field}, field=f"{at}.field")
        try:
            clean_values(kind, {action.field: action.value}, enforce_required=False)
        except Invalid as exc:
            raise Invalid(exc.code, exc.message, field=f"{at}.value") from None
    if action.type == ActionType.APPLY_SLA:
        _exists(SlaPolicy, action.sla, field=f"{at}.sla", what="sla_policy")
    if action.type == ActionType.MOVE_TO_PROJECT:
        _exists(Project, action.project, field=f"{at}.project", what="project")
        if action.folder is not None:
            _exists(Folder, action.folder, field=f"{at}.folder", what="folder", project_id=action.project)


def check(rule: Rule) -> None:
    check_rule(rule)
    _check_records(rule)


def _save(row: Automation, rule: Rule) -> None:
    stored = rule_json(rule)
    row.name, row.item_kind, row.enabled = rule.name.strip(), str(rule.item_kind), rule.enabled
    row.trigger, row.conditions, row.actions = stored["trigger"], stored["conditions"], stored["actions"]
    row.organization_id = rule.organization()
    if row.enabled:
        row.failures, row.last_error = 0, ""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict("routing_exists", gettext("This organization has a routing section already."), field="conditions") from None


def _state(row: Automation) -> dict[str, object]:
    return {"name": row.name, "item_kind": row.item_kind, "trigger": row.trigger, "conditions": row.conditions,
            "actions": row.actions, "enabled": row.enabled, "position": row.position}


def _record(row: Automation, action: str, *, actor: Actor, changes: dict[str, Any]) -> None:
    record(actor=actor, action=f"automation.{action}", object_type="automation", object_id=row.pk,
           object_label=row.name, changes=changes)


def _next_position(kind: str) -> int:
    last = Automation.objects.filter(item_kind=kind).aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


@transaction.atomic
def create_automation(rule: Rule, *, actor: Actor) -> Automation:
    _require_admin(actor)
    check(rule)
    row = Automation(position=_next_position(rule.item_kind))
    _save(row, rule)
    _record(row, "created", actor=actor, changes=_state(row))
    return row


def _rule_of(row: Automation) -> Rule:
    return loaded(row).rule


@transaction.atomic
def update_automation(row: Automation, *, changes: AutomationChanges, actor: Actor) -> Automation:
    _require_admin(actor)
    before = _state(row)
    rule = _rule_of(row)
    given = {key: value for key, value in vars(changes).items() if key != "position" and value is not UNSET}
    rule = replace(rule, **given)
    check(rule)
    if row.routing and rule.organization() != row.organization_id:
        raise Invalid("routing_organization", gettext("A routing section stays with its organization."), field="conditions")
    if changes.position is not UNSET:
        if changes.position < 0:
            raise Invalid("invalid_position", gettext("Position is a whole number from 0."), field="position")
        row.position = changes.position
    _save(row, rule)
    changed = diff(before, _state(row))
    if changed:
        _record(row, "updated", actor=actor, changes=changed)
    return row


@transaction.atomic
def delete_automation(row: Automation, *, actor: Actor) -> None:
    _require_admin(actor)
    _record(row, "deleted", actor=actor, changes=_state(row))
    row.delete()


@transaction.atomic
def set_routing(organization: Organization, *, actions: Sequence[Action], actor: Actor) -> Automation | None:
    """The organization's routing section: these actions on every ticket its members submit, at
    creation. An ordinary automation (created, organization is this one); no actions removes it."""
    _require_admin(actor)
    row = Automation.objects.filter(organization=organization, routing=True).first()
    if not actions:
        if row is not None:
            delete_automation(row, actor=actor)
        return None
    rule = Rule(name=ROUTING_NAME.format(name=organization.name)[:200], item_kind=ItemKind.TICKET,
                trigger=Trigger(TriggerType.CREATED),
                all=(Condition("organization", Op.IS, organization.pk),), actions=tuple(actions))
    check(rule)
    if row is None:
        row = Automation(routing=True, position=_next_position(ItemKind.TICKET))
        _save(row, rule)
        _record(row, "created", actor=actor, changes=_state(row))
        return row
    before = _state(row)
    _save(row, replace(rule, enabled=row.enabled))
    changed = diff(before, _state(row))
    if changed:
        _record(row, "updated", actor=actor, changes=changed)
    return row


def routing_actions(row: Automation | None) -> list[dict[str, object]]:
    return [action_json(action) for action in _rule_of(row).actions] if row is not None else []


@dataclass(frozen=True)
class TestResult:
    """The editor's "Test against an item": whether the trigger and conditions hold, and what
    the rule would do. Nothing is written."""

    triggered: bool
    matched: bool
    checks: Sequence[Check]
    actions: Sequence[Action]


def test_against_item(rule: Rule, item: Item, *, rule_id: int = 0) -> TestResult:
    check_rule(rule)
    if str(rule.item_kind) != item.kind:
        raise Invalid("wrong_kind", gettext("This rule is for %(item_kind)ss; %(reference)s is a %(kind)s.") % {"item_kind": rule.item_kind, "reference": item.reference, "kind": item.kind},
                      field="item")
    return _dry_run(rule, item.pk, read_facts([item.pk])[item.pk], rule_id)


def test_against_record(rule: Rule, record_id: int, *, rule_id: int = 0) -> TestResult:
    """A project rule against the project `record_id`, a timesheet rule against that time entry."""
    check_rule(rule)
    if rule.item_kind not in (ItemKind.PROJECT, ItemKind.TIMESHEET):
        raise Invalid("wrong_kind", gettext("A %(item_kind)s rule is tested against a %(item_kind)s.") % {"item_kind": rule.item_kind}, field="item")
    read = read_project_facts if rule.item_kind == ItemKind.PROJECT else read_time_facts
    facts = read([record_id]).get(record_id)
    if facts is None:
        what = "project" if rule.item_kind == ItemKind.PROJECT else "time entry"
        raise Invalid("unknown_item", gettext("There is no %(what)s %(record_id)s.") % {"what": what, "record_id": record_id}, field="item")
    return _dry_run(rule, record_id, facts, rule_id)


def _dry_run(rule: Rule, record_id: int, facts: Facts, rule_id: int) -> TestResult:
    event_type = rule.trigger.type if rule.trigger.type != TriggerType.CHANGED else TriggerType.UPDATED
    changes = {}
    if rule.trigger.type == TriggerType.CHANGED:
        name = rule.trigger.field or ("status" if rule.item_kind in ITEM_KINDS else "name")
        changes = {name: (rule.trigger.from_value, facts.get(name))}
    event = ItemEvent(record_id, event_type, actor=Actor.rule("test"), changes=changes, automation_id=rule_id)
    ok, checks = evaluate(rule, facts, dict(changes))
    return TestResult(triggered(rule, event, rule_id), ok, checks, rule.actions)


@transaction.atomic
def reorder_automations(item_kind: str, order: Sequence[int], *, actor: Actor) -> None:
    """The rules of one item kind run in this order (ids; rules left out keep their place after)."""
    _require_admin(actor)
    rows = list(Automation.objects.filter(item_kind=item_kind).order_by("position", "id"))
    by_id = {row.pk: row for row in rows}
    wanted = [by_id[pk] for pk in dict.fromkeys(order) if pk in by_id]
    ordered = wanted + [row for row in rows if row not in wanted]
    changed = []
    for position, row in enumerate(ordered):
        if row.position != position:
            row.position = position
            changed.append(row)
    Automation.objects.bulk_update(changed, ["position"])
    if changed:
        record(actor=actor, action="automation.reordered", object_type="automation", object_id=None,
               object_label=item_kind, changes={"order": [row.name for row in ordered]})
