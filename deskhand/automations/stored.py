"""Rules as JSON (the API's shape, which is also how they are stored) and back."""

from __future__ import annotations

from typing import Any

from deskhand.automations.rules import (
    Action,
    ActionType,
    AssignMode,
    Condition,
    ItemKind,
    Op,
    Rule,
    Since,
    Trigger,
    TriggerType,
)

_ACTION_KEYS: dict[ActionType, tuple[str, ...]] = {
    ActionType.ASSIGN: ("agent", "team", "mode"),
    ActionType.SET_STATUS: ("value",),
    ActionType.SET_PRIORITY: ("value",),
    ActionType.SET_FIELD: ("field", "value"),
    ActionType.MOVE_TO_PROJECT: ("project", "folder"),
    ActionType.CUSTOMER_PROJECT: (),
    ActionType.ADD_FOLLOWER: ("agent", "customer"),
    ActionType.APPLY_SLA: ("sla",),
    ActionType.SEND_SURVEY: (),
    ActionType.REPLY: ("body",),
    ActionType.NOTE: ("body",),
    ActionType.ADD_FOLDER: ("name",),
}


def trigger_json(trigger: Trigger) -> dict[str, Any]:
    out: dict[str, Any] = {"type": str(trigger.type)}
    if trigger.type == TriggerType.CHANGED:
        out.update({"field": trigger.field, "from": trigger.from_value, "to": trigger.to_value})
    if trigger.type == TriggerType.ELAPSED:
        out.update({"since": str(trigger.since), "minutes": trigger.minutes})
    return out


def condition_json(condition: Condition) -> dict[str, Any]:
    return {"field": condition.field, "op": str(condition.op), "value": condition.value}


def action_json(action: Action) -> dict[str, Any]:
    out: dict[str, Any] = {"type": str(action.type)}
    for key in _ACTION_KEYS[action.type]:
        value = getattr(action, key)
        if key == "mode":
            if action.team is not None:
                out[key] = str(value)
        elif value is not None and (key != "folder" or action.type == ActionType.MOVE_TO_PROJECT):
            out[key] = value
        elif key == "value" and action.type == ActionType.SET_FIELD:
            out[key] = None  # a project's portfolio set to none
    if action.type == ActionType.MOVE_TO_PROJECT:
        out.setdefault("folder", None)
    return out


def rule_json(rule: Rule) -> dict[str, Any]:
    return {"trigger": trigger_json(rule.trigger),
            "conditions": {"all": [condition_json(c) for c in rule.all], "any": [condition_json(c) for c in rule.any]},
            "actions": [action_json(a) for a in rule.actions]}


def rule_from_json(*, name: str, item_kind: str, trigger: dict[str, Any], conditions: dict[str, Any],
                   actions: list[dict[str, Any]], enabled: bool = True) -> Rule:
    """A stored rule (written by the services from a checked Rule) read back."""
    since = trigger.get("since")
    return Rule(
        name=name, item_kind=ItemKind(item_kind), enabled=enabled,
        trigger=Trigger(type=TriggerType(trigger["type"]), field=trigger.get("field") or "",
                        from_value=trigger.get("from"), to_value=trigger.get("to"),
                        since=Since(since) if since else None, minutes=int(trigger.get("minutes") or 0)),
        all=tuple(Condition(c["field"], Op(c["op"]), c.get("value")) for c in conditions.get("all", [])),
        any=tuple(Condition(c["field"], Op(c["op"]), c.get("value")) for c in conditions.get("any", [])),
        actions=tuple(Action(type=ActionType(a["type"]), agent=a.get("agent"), team=a.get("team"),
                             mode=AssignMode(a.get("mode") or AssignMode.TEAM), customer=a.get("customer"),
                             value=a.get("value"), field=a.get("field") or "", project=a.get("project"),
                             folder=a.get("folder"), body=a.get("body") or "", sla=a.get("sla"),
                             name=a.get("name") or "") for a in actions),
    )
