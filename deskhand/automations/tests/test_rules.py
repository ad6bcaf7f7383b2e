"""What a rule may be, checked without the database (rules.check_rule)."""

from __future__ import annotations

import pytest

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
    check_rule,
    render_template,
)
from deskhand.core.errors import Invalid

CREATED = Trigger(TriggerType.CREATED)
NOTE = Action(ActionType.NOTE, body="Seen by the rules.")


def rule(**overrides: object) -> Rule:
    values: dict[str, object] = {"name": "Urgent to Ana", "item_kind": ItemKind.TICKET, "trigger": CREATED,
                                 "actions": (NOTE,)}
    values.update(overrides)
    return Rule(**values)  # type: ignore[arg-type]


def test_a_plain_rule_passes() -> None:
    check_rule(rule(all=(Condition("priority", Op.IS, "urgent"),),
                    actions=(Action(ActionType.ASSIGN, team=3, mode=AssignMode.ROUND_ROBIN), NOTE)))


@pytest.mark.parametrize(("bad", "field"), [
    (rule(name="  "), "name"),
    (rule(all=(Condition("colour", Op.IS, "red"),)), "conditions.all.0.field"),
    (rule(any=(Condition("priority", Op.CONTAINS, "urg"),)), "conditions.any.0.op"),
    (rule(all=(Condition("organization", Op.IS, "Acme"),)), "conditions.all.0.value"),
    (rule(all=(Condition("title", Op.IN, []),)), "conditions.all.0.value"),
    (rule(all=(Condition("title", Op.GT, "x"),)), "conditions.all.0.op"),
    (rule(all=(Condition("custom_fields.level", Op.GT, "ten"),)), "conditions.all.0.value"),
    (rule(actions=()), "actions"),
    (rule(actions=(Action(ActionType.ASSIGN),)), "actions.0.agent"),
    (rule(actions=(Action(ActionType.ASSIGN, agent=1, team=2),)), "actions.0.agent"),
    (rule(actions=(Action(ActionType.ASSIGN, agent=1, mode=AssignMode.LEAST_BUSY),)), "actions.0.mode"),
    (rule(actions=(Action(ActionType.SET_STATUS),)), "actions.0.value"),
    (rule(actions=(Action(ActionType.MOVE_TO_PROJECT),)), "actions.0.project"),
    (rule(actions=(Action(ActionType.REPLY, body=" "),)), "actions.0.body"),
    (rule(actions=(Action(ActionType.REPLY, body="Hi {{ requester.password }}"),)), "actions.0.body"),
    (rule(trigger=Trigger(TriggerType.ELAPSED, minutes=60)), "trigger.since"),
    (rule(trigger=Trigger(TriggerType.ELAPSED, since=Since.CREATED, minutes=0)), "trigger.minutes"),
    (rule(trigger=Trigger(TriggerType.CHANGED, field="colour")), "trigger.field"),
    (rule(trigger=Trigger(TriggerType.UPDATED), actions=(Action(ActionType.SET_PRIORITY, value="high"),)),
     "trigger"),
    (rule(trigger=Trigger(TriggerType.CHANGED, field="status"), actions=(Action(ActionType.SET_STATUS, value="open"),)),
     "trigger.field"),
])
def test_bad_rules_name_the_field(bad: Rule, field: str) -> None:
    with pytest.raises(Invalid) as error:
        check_rule(bad)
    assert error.value.field == field


PROJECT = ItemKind.PROJECT
TIMESHEET = ItemKind.TIMESHEET
FOLDER = Action(ActionType.ADD_FOLDER, name="Support")
NOT_BILLABLE = Action(ActionType.SET_FIELD, field="billable", value=False)


def test_project_and_timesheet_rules_have_their_own_properties_and_actions() -> None:
    check_rule(rule(item_kind=PROJECT, all=(Condition("organization", Op.IS_NOT, None),
                                            Condition("name", Op.CONTAINS, "rollout")),
                    actions=(Action(ActionType.SET_FIELD, field="portfolio", value=4), FOLDER)))
    check_rule(rule(item_kind=TIMESHEET, trigger=Trigger(TriggerType.CHANGED, field="minutes"),
                    all=(Condition("item.organization", Op.IS, 7), Condition("billable", Op.IS, True),
                         Condition("item.requester.email", Op.CONTAINS, "@acme")),
                    actions=(NOT_BILLABLE, Action(ActionType.NOTE, body="{{ time.minutes }} min on {{ item.reference }}"))))


@pytest.mark.parametrize(("bad", "field"), [
    (rule(item_kind=PROJECT, actions=(Action(ActionType.ASSIGN, agent=1),)), "actions.0.type"),
    (rule(item_kind=PROJECT, trigger=Trigger(TriggerType.ELAPSED, since=Since.CREATED, minutes=5), actions=(FOLDER,)),
     "trigger.type"),
    (rule(item_kind=PROJECT, all=(Condition("status", Op.IS, "open"),), actions=(FOLDER,)), "conditions.all.0.field"),
    (rule(item_kind=PROJECT, actions=(Action(ActionType.SET_FIELD, field="name", value="x"),)), "actions.0.field"),
    (rule(item_kind=PROJECT, actions=(Action(ActionType.SET_FIELD, field="portfolio", value="Clients"),)),
     "actions.0.value"),
    (rule(item_kind=PROJECT, actions=(Action(ActionType.ADD_FOLDER, name=" "),)), "actions.0.name"),
    (rule(actions=(FOLDER,)), "actions.0.type"),
    (rule(item_kind=TIMESHEET, actions=(Action(ActionType.SET_FIELD, field="billable", value="no"),)),
     "actions.0.value"),
    (rule(item_kind=TIMESHEET, all=(Condition("billable", Op.IS, "yes"),), actions=(NOT_BILLABLE,)),
     "conditions.all.0.value"),
    (rule(item_kind=TIMESHEET, all=(Condition("item.text", Op.CONTAINS, "x"),), actions=(NOT_BILLABLE,)),
     "conditions.all.0.field"),
    (rule(item_kind=TIMESHEET, actions=(Action(ActionType.REPLY, body="Thanks"),)), "actions.0.type"),
    (rule(item_kind=TIMESHEET, trigger=Trigger(TriggerType.CHANGED, field="billable"), actions=(NOT_BILLABLE,)),
     "trigger.field"),
    (rule(actions=(Action(ActionType.NOTE, body="{{ time.minutes }}"),)), "actions.0.body"),
])
def test_bad_project_and_timesheet_rules_name_the_field(bad: Rule, field: str) -> None:
    with pytest.raises(Invalid) as error:
        check_rule(bad)
    assert error.value.field == field


def test_a_rule_reacting_to_a_change_to_one_value_may_make_other_changes() -> None:
    check_rule(rule(trigger=Trigger(TriggerType.CHANGED, field="status", to_value="done"),
                    actions=(Action(ActionType.SET_STATUS, value="open"),)))


def test_templates_substitute_text_and_never_run_code() -> None:
    body = "Hello {{ requester.name }}, {{ item.reference }} {% debug %} {{ settings.SECRET_KEY }} {{"
    assert render_template(body, {"requester.name": "Zoë", "item.reference": "#12"}) == \
        "Hello Zoë, #12 {% debug %}  {{"


def test_the_organization_a_rule_is_pinned_to() -> None:
    assert rule(all=(Condition("organization", Op.IS, 7),)).organization() == 7
    assert rule(any=(Condition("organization", Op.IS, 7),)).organization() is None
