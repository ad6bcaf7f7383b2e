"""The pure planner: facts + event + rules → what fires, with the conditions it checked."""

from __future__ import annotations

from typing import Any

from deskhand.automations.events import ItemEvent
from deskhand.automations.planner import LoadedRule, plan
from deskhand.automations.rules import Action, ActionType, Condition, ItemKind, Op, Rule, Trigger, TriggerType
from deskhand.core.actors import Actor

AGENT = Actor.rule("test")  # the planner does not look at actors
NOTE = (Action(ActionType.NOTE, body="x"),)


def facts(**values: Any) -> dict[str, Any]:
    base = {"kind": "ticket", "title": "Printer on fire", "description": "", "text": "Printer on fire",
            "status": "new", "priority": "normal", "organization": 3, "organization.name": "Acme",
            "assignees": ["agent:2"], "requester.email": "zoe@acme.example", "custom_fields.level": 3}
    base.update(values)
    return base


def loaded(rule_id: int, trigger: Trigger, *conditions: Condition, any_of: tuple[Condition, ...] = (),
           kind: ItemKind = ItemKind.TICKET) -> LoadedRule:
    return LoadedRule(rule_id, Rule(f"Rule {rule_id}", kind, trigger, all=conditions, any=any_of, actions=NOTE))


def fired(item_facts: dict[str, Any], event: ItemEvent, *rules: LoadedRule) -> list[int]:
    return [p.rule_id for p in plan(item_facts, event, rules)]


def test_triggers_pick_their_events() -> None:
    created = ItemEvent(1, "created", AGENT)
    updated = ItemEvent(1, "updated", AGENT, changes={"status": ("new", "pending")})
    replied = ItemEvent(1, "customer_replied", AGENT)
    rules = (loaded(1, Trigger(TriggerType.CREATED)), loaded(2, Trigger(TriggerType.UPDATED)),
             loaded(3, Trigger(TriggerType.CHANGED, field="status", to_value="pending")),
             loaded(4, Trigger(TriggerType.CHANGED, field="status", from_value="open")),
             loaded(5, Trigger(TriggerType.CUSTOMER_REPLIED)), loaded(6, Trigger(TriggerType.AGENT_REPLIED)),
             loaded(7, Trigger(TriggerType.CREATED), kind=ItemKind.TASK))
    assert fired(facts(), created, *rules) == [1]
    assert fired(facts(), updated, *rules) == [2, 3]
    assert fired(facts(), replied, *rules) == [2, 5]


def test_conditions_all_and_any() -> None:
    event = ItemEvent(1, "created", AGENT)
    rules = (
        loaded(1, Trigger(TriggerType.CREATED), Condition("organization", Op.IS, 3),
               Condition("title", Op.CONTAINS, "PRINTER")),
        loaded(2, Trigger(TriggerType.CREATED), Condition("organization", Op.IS, 4)),
        loaded(3, Trigger(TriggerType.CREATED), any_of=(Condition("priority", Op.IS, "urgent"),
                                                        Condition("requester.email", Op.CONTAINS, "@acme."))),
        loaded(4, Trigger(TriggerType.CREATED), Condition("custom_fields.level", Op.GT, 2),
               Condition("custom_fields.level", Op.LT, 5), Condition("assignees", Op.CONTAINS, "agent:2")),
        loaded(5, Trigger(TriggerType.CREATED), Condition("project", Op.IS_EMPTY),
               Condition("status", Op.IN, ["new", "open"]), Condition("title", Op.NOT_CONTAINS, "toner")),
        loaded(6, Trigger(TriggerType.CREATED), Condition("organization.name", Op.IS_NOT, "acme")),
    )
    assert fired(facts(), event, *rules) == [1, 3, 4, 5]


def test_the_plan_says_which_conditions_matched() -> None:
    rule = loaded(1, Trigger(TriggerType.CREATED), Condition("organization", Op.IS, 3),
                  any_of=(Condition("priority", Op.IS, "urgent"), Condition("title", Op.CONTAINS, "printer")))
    [planned] = plan(facts(), ItemEvent(1, "created", AGENT), [rule])
    assert [(check.text, check.met) for check in planned.checks] == [
        ("organization is 3", True), ("any: priority is urgent", False), ("any: title contains printer", True)]


def test_changed_condition_and_disabled_rules() -> None:
    event = ItemEvent(1, "updated", AGENT, changes={"priority": ("normal", "high")})
    rules = (loaded(1, Trigger(TriggerType.UPDATED), Condition("priority", Op.CHANGED)),
             loaded(2, Trigger(TriggerType.UPDATED), Condition("status", Op.CHANGED)))
    disabled = LoadedRule(3, Rule("Off", ItemKind.TICKET, Trigger(TriggerType.UPDATED), actions=NOTE, enabled=False))
    assert fired(facts(), event, *rules, disabled) == [1]
