"""The pure half of the engine: an item's facts, an event and the rules → which rules fire,
which of their conditions matched, and their actions. No database, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deskhand.automations.events import ItemEvent
from deskhand.automations.facts import Facts
from deskhand.automations.rules import Action, Condition, Op, Rule, TriggerType


@dataclass(frozen=True)
class LoadedRule:
    id: int
    rule: Rule


@dataclass(frozen=True)
class Check:
    """One condition, in words, and whether the item met it."""

    text: str
    met: bool


@dataclass(frozen=True)
class Planned:
    """A rule that fires for an item: what it checked and what it will do."""

    rule_id: int
    name: str
    item_id: int
    checks: Sequence[Check]
    actions: Sequence[Action]


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _contains(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, list):
        return _fold(wanted) in [_fold(v) for v in actual]
    if isinstance(actual, str) and isinstance(wanted, str):
        return wanted.casefold() in actual.casefold()
    return False


def met(condition: Condition, facts: Facts, changes: dict[str, Any]) -> bool:
    actual = facts.get(condition.field)
    op, wanted = condition.op, condition.value
    if op == Op.CHANGED:
        return condition.field in changes
    if op == Op.IS_EMPTY:
        return _empty(actual)
    if op == Op.IS:
        if isinstance(actual, list):
            return [_fold(v) for v in actual] == [_fold(wanted)] if not isinstance(wanted, list) else \
                [_fold(v) for v in actual] == [_fold(v) for v in wanted]
        return bool(_fold(actual) == _fold(wanted))
    if op == Op.IS_NOT:
        return not met(Condition(condition.field, Op.IS, wanted), facts, changes)
    if op == Op.CONTAINS:
        return _contains(actual, wanted)
    if op == Op.NOT_CONTAINS:
        return not _contains(actual, wanted)
    if op == Op.IN:
        return _fold(actual) in [_fold(v) for v in (wanted or [])]
    number, limit = _number(actual), _number(wanted)
    if number is None or limit is None:
        return False
    return number > limit if op == Op.GT else number < limit


def describe(condition: Condition) -> str:
    if condition.op == Op.IS_EMPTY:
        return f"{condition.field} is empty"
    if condition.op == Op.CHANGED:
        return f"{condition.field} changed"
    if condition.op == Op.IS_NOT and condition.value is None:
        return f"{condition.field} is not empty"
    value = ", ".join(map(str, condition.value)) if isinstance(condition.value, list) else condition.value
    return f"{condition.field} {condition.op.replace('_', ' ')} {value}"


def triggered(rule: Rule, event: ItemEvent, rule_id: int) -> bool:
    trigger = rule.trigger
    if trigger.type == TriggerType.ELAPSED:
        return event.type == TriggerType.ELAPSED and event.automation_id == rule_id
    if trigger.type == TriggerType.UPDATED:
        return event.type in (TriggerType.UPDATED, TriggerType.CUSTOMER_REPLIED, TriggerType.AGENT_REPLIED)
    if trigger.type == TriggerType.CHANGED:
        if event.type != TriggerType.UPDATED:
            return False
        fields = [trigger.field] if trigger.field else list(event.changes)
        for name in fields:
            if name not in event.changes:
                continue
            old, new = event.changes[name]
            if trigger.from_value is not None and _fold(old) != _fold(trigger.from_value):
                continue
            if trigger.to_value is not None and _fold(new) != _fold(trigger.to_value):
                continue
            return True
        return False
    return event.type == trigger.type


def evaluate(rule: Rule, facts: Facts, changes: dict[str, Any]) -> tuple[bool, list[Check]]:
    """Whether the conditions hold (`all` of them, and one of `any` when there are some), with
    each condition checked, for the run log and the editor's test."""
    checks = [Check(describe(c), met(c, facts, changes)) for c in rule.all]
    any_checks = [Check("any: " + describe(c), met(c, facts, changes)) for c in rule.any]
    ok = all(check.met for check in checks) and (not any_checks or any(check.met for check in any_checks))
    return ok, checks + any_checks


def plan(facts: Facts, event: ItemEvent, rules: Sequence[LoadedRule]) -> list[Planned]:
    """The rules `event` fires for the item `facts` describe, in order."""
    planned = []
    changes = dict(event.changes)
    for loaded in rules:
        rule = loaded.rule
        if not rule.enabled or rule.item_kind != facts.get("kind"):
            continue
        if not triggered(rule, event, loaded.id):
            continue
        ok, checks = evaluate(rule, facts, changes)
        if ok:
            planned.append(Planned(loaded.id, rule.name, event.item_id, checks, rule.actions))
    return planned

