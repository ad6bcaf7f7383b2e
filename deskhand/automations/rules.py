"""What an automation is, as typed values: a trigger, conditions and ordered actions (DESIGN §4).
Pure: no database. `check_rule` refuses what can be refused without reading records (an unknown
field or action, an operator a field does not take, a value of the wrong kind, an action on the
wrong item kind, a rule that would trigger itself); the services check the records it names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext

from deskhand.core.errors import Invalid

MAX_CONDITIONS = 50
MAX_ACTIONS = 20
MAX_BODY = 20_000
MAX_ELAPSED_MINUTES = 366 * 24 * 60


class ItemKind(StrEnum):
    """What a rule runs on. Tickets and tasks are items (the full engine); a project or a time
    entry (the timesheet kind) has its own few properties and actions (DESIGN §4)."""

    TICKET = "ticket"
    TASK = "task"
    PROJECT = "project"
    TIMESHEET = "timesheet"


ITEM_KINDS = frozenset({ItemKind.TICKET, ItemKind.TASK})


class TriggerType(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    CHANGED = "changed"
    ELAPSED = "elapsed"
    CUSTOMER_REPLIED = "customer_replied"
    AGENT_REPLIED = "agent_replied"
    SLA_BREACHED = "sla_breached"
    SLA_AT_RISK = "sla_at_risk"


class Since(StrEnum):
    """What an `elapsed` trigger counts from."""

    CREATED = "created"
    LAST_CUSTOMER_MESSAGE = "last_customer_message"
    LAST_AGENT_REPLY = "last_agent_reply"
    STATUS_CHANGED = "status_changed"


class Op(StrEnum):
    IS = "is"
    IS_NOT = "is_not"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    IN = "in"
    GT = "gt"
    LT = "lt"
    IS_EMPTY = "is_empty"
    CHANGED = "changed"


class ActionType(StrEnum):
    ASSIGN = "assign"
    SET_STATUS = "set_status"
    SET_PRIORITY = "set_priority"
    SET_FIELD = "set_field"
    MOVE_TO_PROJECT = "move_to_project"
    CUSTOMER_PROJECT = "customer_project"
    ADD_FOLLOWER = "add_follower"
    APPLY_SLA = "apply_sla"
    SEND_SURVEY = "send_survey"
    REPLY = "reply"
    NOTE = "note"
    ADD_FOLDER = "add_folder"  # projects: a folder by this name, unless it has one


# What each kind's rules may do and react to: projects and time entries have no messages, SLA or clock.
_ITEM_ACTIONS = frozenset(ActionType) - {ActionType.ADD_FOLDER}
ACTIONS: dict[ItemKind, frozenset[ActionType]] = {
    ItemKind.TICKET: _ITEM_ACTIONS, ItemKind.TASK: _ITEM_ACTIONS,
    ItemKind.PROJECT: frozenset({ActionType.SET_FIELD, ActionType.ADD_FOLDER}),
    ItemKind.TIMESHEET: frozenset({ActionType.SET_FIELD, ActionType.NOTE}),
}
_RECORD_TRIGGERS = frozenset({TriggerType.CREATED, TriggerType.UPDATED, TriggerType.CHANGED})
TRIGGERS: dict[ItemKind, frozenset[TriggerType]] = {
    ItemKind.TICKET: frozenset(TriggerType), ItemKind.TASK: frozenset(TriggerType),
    ItemKind.PROJECT: _RECORD_TRIGGERS, ItemKind.TIMESHEET: _RECORD_TRIGGERS,
}
# `set_field` on a project or a time entry sets one of its own properties (on items: a custom field).
SETTABLE: dict[ItemKind, str] = {ItemKind.PROJECT: "portfolio", ItemKind.TIMESHEET: "billable"}


class AssignMode(StrEnum):
    """`assign {"team"}`: the team itself, or one of its agents picked in turn or by workload."""

    TEAM = "team"
    ROUND_ROBIN = "round_robin"
    LEAST_BUSY = "least_busy"


class FieldKind(StrEnum):
    TEXT = "text"  # contains, is, …; compared without case
    KEY = "key"  # one of a set of keys (status, priority, channel)
    ID = "id"  # a record's id (project, organization, requester)
    IDS = "ids"  # several references ("agent:3", "team:2")
    NUMBER = "number"
    BOOL = "bool"  # true or false
    ANY = "any"  # a custom field: its value as stored


OPS: dict[FieldKind, frozenset[Op]] = {
    FieldKind.TEXT: frozenset({Op.IS, Op.IS_NOT, Op.CONTAINS, Op.NOT_CONTAINS, Op.IN, Op.IS_EMPTY, Op.CHANGED}),
    FieldKind.KEY: frozenset({Op.IS, Op.IS_NOT, Op.IN, Op.IS_EMPTY, Op.CHANGED}),
    FieldKind.ID: frozenset({Op.IS, Op.IS_NOT, Op.IN, Op.IS_EMPTY, Op.CHANGED}),
    FieldKind.IDS: frozenset({Op.CONTAINS, Op.NOT_CONTAINS, Op.IS_EMPTY, Op.CHANGED}),
    FieldKind.NUMBER: frozenset({Op.IS, Op.IS_NOT, Op.GT, Op.LT, Op.IN, Op.IS_EMPTY, Op.CHANGED}),
    FieldKind.BOOL: frozenset({Op.IS, Op.IS_NOT, Op.CHANGED}),
    FieldKind.ANY: frozenset(Op),
}

# The properties conditions can test, with how they compare. Custom fields are
# `custom_fields.<key>`, `requester.custom_fields.<key>`, `organization.custom_fields.<key>`.
FIELDS: dict[str, FieldKind] = {
    "title": FieldKind.TEXT,
    "description": FieldKind.TEXT,
    "text": FieldKind.TEXT,  # title, description and the latest message: "words in title or body"
    "message": FieldKind.TEXT,  # the latest message's text (for the replied triggers)
    "status": FieldKind.KEY,
    "status_category": FieldKind.KEY,
    "priority": FieldKind.KEY,
    "channel": FieldKind.KEY,
    "mailbox": FieldKind.TEXT,  # the ticket address a mail came in on
    "project": FieldKind.ID,
    "folder": FieldKind.ID,
    "assignees": FieldKind.IDS,
    "requester": FieldKind.ID,
    "requester.email": FieldKind.TEXT,
    "requester.domain": FieldKind.TEXT,
    "requester.name": FieldKind.TEXT,
    "requester.customer_type": FieldKind.TEXT,
    "requester.language": FieldKind.TEXT,
    "organization": FieldKind.ID,
    "organization.name": FieldKind.TEXT,
}
CUSTOM_PREFIXES = ("custom_fields.", "requester.custom_fields.", "organization.custom_fields.")
PROJECT_FIELDS: dict[str, FieldKind] = {
    "name": FieldKind.TEXT,
    "portfolio": FieldKind.ID,
    "organization": FieldKind.ID,
    "organization.name": FieldKind.TEXT,
}
# A time entry's own properties; the item it was logged on is `item.<field>` (item.status,
# item.organization, item.requester.email, item.custom_fields.<key>, …).
TIME_FIELDS: dict[str, FieldKind] = {
    "minutes": FieldKind.NUMBER,
    "billable": FieldKind.BOOL,
    "note": FieldKind.TEXT,
    "agent": FieldKind.ID,
    "item.kind": FieldKind.KEY,
}
# Properties an action changes, for the self-trigger check and the `changed` trigger.
CHANGEABLE = ("title", "description", "status", "priority", "requester", "assignees", "followers", "project",
              "folder", "custom_fields")


@dataclass(frozen=True)
class Trigger:
    type: TriggerType
    field: str = ""  # changed: the property; "" for any
    from_value: Any = None  # changed: the old value (None: any)
    to_value: Any = None  # changed: the new value (None: any)
    since: Since | None = None  # elapsed
    minutes: int = 0  # elapsed


@dataclass(frozen=True)
class Condition:
    field: str
    op: Op
    value: Any = None


@dataclass(frozen=True)
class Action:
    """One step; which parameters count depends on `type` (DESIGN §7, automations)."""

    type: ActionType
    agent: int | None = None
    team: int | None = None
    mode: AssignMode = AssignMode.TEAM
    customer: int | None = None
    value: Any = None  # set_status, set_priority (a key), set_field (the field's value)
    field: str = ""  # set_field: the item custom field's key
    project: int | None = None
    folder: int | None = None
    body: str = ""  # reply, note: a template with placeholders
    sla: int | None = None  # apply_sla: the policy
    name: str = ""  # add_folder: the folder's name


@dataclass(frozen=True)
class Rule:
    """An automation as the engine and the services see it."""

    name: str
    item_kind: ItemKind
    trigger: Trigger
    all: Sequence[Condition] = ()
    any: Sequence[Condition] = ()
    actions: Sequence[Action] = ()
    enabled: bool = True

    def organization(self) -> int | None:
        """The organization an `all` condition pins the rule to: how the rule is found for an
        item without reading every rule (the routing index)."""
        for condition in self.all:
            if condition.field == "organization" and condition.op == Op.IS and isinstance(condition.value, int):
                return condition.value
        return None


@dataclass(frozen=True)
class Placeholder:
    """A name a reply or note body may use as `{{ name }}`."""

    name: str
    description: str


PLACEHOLDERS = (
    Placeholder("item.reference", "#123"),
    Placeholder("item.title", "the title"),
    Placeholder("item.status", "the status's label"),
    Placeholder("item.priority", "the priority's label"),
    Placeholder("requester.name", "the requester's name (or address)"),
    Placeholder("requester.email", "the requester's address"),
    Placeholder("organization.name", "the requester's organization"),
)
# A note a timesheet rule adds to the item the time was logged on.
TIME_PLACEHOLDERS = (
    Placeholder("time.minutes", "the minutes logged"),
    Placeholder("time.agent", "the agent who logged them"),
)


def field_kind(name: str, item_kind: ItemKind = ItemKind.TICKET) -> FieldKind | None:
    """How `name` compares on `item_kind`'s rules; None: the kind has no such property."""
    if item_kind == ItemKind.PROJECT:
        if name in PROJECT_FIELDS:
            return PROJECT_FIELDS[name]
        custom = name.removeprefix("organization.custom_fields.")
        return FieldKind.ANY if custom != name and 0 < len(custom) <= 50 else None
    if item_kind == ItemKind.TIMESHEET:
        if name in TIME_FIELDS:
            return TIME_FIELDS[name]
        on_item = name.removeprefix("item.")
        if on_item == name or on_item in ("text", "message"):
            return None
        return field_kind(on_item)
    if name in FIELDS:
        return FIELDS[name]
    for prefix in CUSTOM_PREFIXES:
        if name.startswith(prefix) and 0 < len(name) - len(prefix) <= 50:
            return FieldKind.ANY
    return None


def _check_value(condition: Condition, kind: FieldKind, where: str) -> None:
    value = condition.value
    if condition.op in (Op.IS_EMPTY, Op.CHANGED) or (condition.op == Op.IS_NOT and value is None):
        return  # `is_not null`: "is not empty"
    if condition.op == Op.IN:
        if not isinstance(value, list) or not value or len(value) > 500:
            raise Invalid("invalid_value", gettext("`in` takes a list of 1 to 500 values."), field=f"{where}.value")
        values = value
    else:
        values = [value]
    for each in values:
        if kind in (FieldKind.ID,) and (isinstance(each, bool) or not isinstance(each, int)):
            raise Invalid("invalid_value", gettext("%(field)s is compared with an id (a number).") % {"field": condition.field},
                          field=f"{where}.value")
        if kind == FieldKind.BOOL and not isinstance(each, bool):
            raise Invalid("invalid_value", gettext("%(field)s is true or false.") % {"field": condition.field}, field=f"{where}.value")
        if kind == FieldKind.NUMBER or condition.op in (Op.GT, Op.LT):
            if isinstance(each, bool) or not isinstance(each, int | float):
                raise Invalid("invalid_value", gettext("%(op)s compares with a number.") % {"op": condition.op}, field=f"{where}.value")
        elif kind in (FieldKind.TEXT, FieldKind.KEY, FieldKind.IDS) and not isinstance(each, str):
            raise Invalid("invalid_value", gettext("%(field)s is compared with text.") % {"field": condition.field}, field=f"{where}.value")
        # `is ""` is a value (an empty property); "contains nothing" is not.
        blank = isinstance(each, str) and not each.strip() and condition.op != Op.IS
        if blank or (isinstance(each, str) and len(each) > 1000):
            raise Invalid("invalid_value", gettext("Give a value of 1 to 1000 characters."), field=f"{where}.value")


def check_conditions(conditions: Sequence[Condition], where: str, item_kind: ItemKind = ItemKind.TICKET) -> None:
    if len(conditions) > MAX_CONDITIONS:
        raise Invalid("too_many_conditions", gettext("At most %(value)s conditions.") % {"value": MAX_CONDITIONS}, field=where)
    for index, condition in enumerate(conditions):
        at = f"{where}.{index}"
        kind = field_kind(condition.field, item_kind)
        if kind is None:
            raise Invalid("unknown_field", f"There is no property “{condition.field[:60]}” to test.",
                          field=f"{at}.field")
        if condition.op not in OPS[kind]:
            allowed = ", ".join(sorted(OPS[kind]))
            raise Invalid("invalid_op", gettext("%(field)s takes %(allowed)s.") % {"field": condition.field, "allowed": allowed}, field=f"{at}.op")
        _check_value(condition, kind, at)


def _changes(action: Action, item_kind: ItemKind) -> set[str]:
    if action.type == ActionType.SET_FIELD and item_kind not in ITEM_KINDS:
        return {action.field}
    return {
        ActionType.ASSIGN: {"assignees"}, ActionType.SET_STATUS: {"status"}, ActionType.SET_PRIORITY: {"priority"},
        ActionType.SET_FIELD: {f"custom_fields.{action.field}"}, ActionType.MOVE_TO_PROJECT: {"project", "folder"},
        ActionType.CUSTOMER_PROJECT: {"project", "folder"}, ActionType.ADD_FOLLOWER: {"followers"},
    }.get(action.type, set())


def check_rule(rule: Rule) -> None:
    """Everything about `rule` that needs no records; raises Invalid naming the field."""
    if not rule.name.strip() or len(rule.name) > 200:
        raise Invalid("invalid_name", gettext("Give the automation a name (200 characters at most)."), field="name")
    trigger = rule.trigger
    if trigger.type not in TRIGGERS[rule.item_kind]:
        allowed = ", ".join(sorted(TRIGGERS[rule.item_kind]))
        raise Invalid("invalid_trigger", gettext("A %(item_kind)s rule is triggered by %(allowed)s.") % {"item_kind": rule.item_kind, "allowed": allowed}, field="trigger.type")
    if trigger.type == TriggerType.CHANGED and trigger.field and (
            field_kind(trigger.field, rule.item_kind) is None or trigger.field in ("text", "message")):
        raise Invalid("unknown_field", f"There is no property “{trigger.field[:60]}” to watch.",
                      field="trigger.field")
    if trigger.type == TriggerType.ELAPSED:
        if trigger.since is None:
            raise Invalid("since_required", f"Say what time counts from: {', '.join(Since)}.", field="trigger.since")
        if not 1 <= trigger.minutes <= MAX_ELAPSED_MINUTES:
            raise Invalid("invalid_minutes", gettext("Minutes are 1 to %(value)s.") % {"value": MAX_ELAPSED_MINUTES}, field="trigger.minutes")
    check_conditions(rule.all, "conditions.all", rule.item_kind)
    check_conditions(rule.any, "conditions.any", rule.item_kind)
    if not rule.actions:
        raise Invalid("actions_required", gettext("Add at least one action."), field="actions")
    if len(rule.actions) > MAX_ACTIONS:
        raise Invalid("too_many_actions", gettext("At most %(value)s actions.") % {"value": MAX_ACTIONS}, field="actions")
    for index, action in enumerate(rule.actions):
        _check_action(action, rule.item_kind, f"actions.{index}")
    _check_self_trigger(rule)


def _check_action(action: Action, item_kind: ItemKind, at: str) -> None:
    if action.type not in ACTIONS[item_kind]:
        allowed = ", ".join(sorted(ACTIONS[item_kind]))
        raise Invalid("invalid_action", gettext("“%(type)s” is not an action for %(item_kind)ss; they take %(allowed)s.") % {"type": action.type, "item_kind": item_kind, "allowed": allowed},
                      field=f"{at}.type")
    if action.type == ActionType.SET_FIELD and item_kind in SETTABLE:
        _check_settable(action, item_kind, at)
    elif action.type == ActionType.ASSIGN:
        if (action.agent is None) == (action.team is None):
            raise Invalid("invalid_assign", gettext("Assign to one agent or one team."), field=f"{at}.agent")
        if action.agent is not None and action.mode != AssignMode.TEAM:
            raise Invalid("invalid_mode", gettext("Round robin and least busy pick an agent of a team."), field=f"{at}.mode")
    elif action.type in (ActionType.SET_STATUS, ActionType.SET_PRIORITY):
        if not isinstance(action.value, str) or not action.value:
            raise Invalid("value_required", gettext("Choose the value to set."), field=f"{at}.value")
    elif action.type == ActionType.SET_FIELD:
        if not action.field or len(action.field) > 50:
            raise Invalid("field_required", gettext("Choose the custom field to set."), field=f"{at}.field")
    elif action.type == ActionType.MOVE_TO_PROJECT:
        if action.project is None:
            raise Invalid("project_required", gettext("Choose the project."), field=f"{at}.project")
    elif action.type == ActionType.CUSTOMER_PROJECT:
        pass
    elif action.type == ActionType.ADD_FOLLOWER:
        if (action.agent is None) == (action.customer is None):
            raise Invalid("invalid_follower", gettext("Add one agent or one customer."), field=f"{at}.agent")
    elif action.type == ActionType.APPLY_SLA:
        if action.sla is None:
            raise Invalid("sla_required", gettext("Choose the SLA policy."), field=f"{at}.sla")
    elif action.type == ActionType.ADD_FOLDER:
        if not action.name.strip() or len(action.name) > 200:
            raise Invalid("name_required", gettext("Name the folder (200 characters at most)."), field=f"{at}.name")
    elif action.type in (ActionType.REPLY, ActionType.NOTE):
        if not action.body.strip() or len(action.body) > MAX_BODY:
            raise Invalid("body_required", gettext("Write the message (at most %(value)s characters).") % {"value": MAX_BODY}, field=f"{at}.body")
        # A task's requester is optional: a reply to a task without one is skipped at run time.
        check_template(action.body, f"{at}.body", item_kind)


def _check_settable(action: Action, item_kind: ItemKind, at: str) -> None:
    """`set_field` on a project (its portfolio, or none) or a time entry (billable or not)."""
    settable = SETTABLE[item_kind]
    if action.field != settable:
        raise Invalid("unknown_field", gettext("A %(item_kind)s rule sets %(settable)s.") % {"item_kind": item_kind, "settable": settable}, field=f"{at}.field")
    value = action.value
    if item_kind == ItemKind.PROJECT and value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise Invalid("invalid_value", gettext("A portfolio is given by its id (or null for none)."), field=f"{at}.value")
    if item_kind == ItemKind.TIMESHEET and not isinstance(value, bool):
        raise Invalid("invalid_value", gettext("Billable is true or false."), field=f"{at}.value")


def _check_self_trigger(rule: Rule) -> None:
    """A rule that reacts to a change it makes itself would fire on its own work: refuse it. (At
    run time every rule fires at most once per item and cascade in any case.)"""
    changed = set().union(*(_changes(action, rule.item_kind) for action in rule.actions))
    trigger = rule.trigger
    if not changed:
        return
    if trigger.type == TriggerType.UPDATED and not rule.all and not rule.any:
        raise Invalid("self_trigger", gettext("This rule changes the item on every update, its own changes included: "
                      "add a condition, or trigger it on a change of one property."), field="trigger")
    if trigger.type == TriggerType.CHANGED and (not trigger.field or trigger.field in changed) \
            and trigger.to_value is None and trigger.from_value is None:
        raise Invalid("self_trigger", f"This rule changes {trigger.field or 'the item'} and reacts to every change "
                      "of it: it would trigger itself. Give the change a from or to value.", field="trigger.field")


def placeholders(item_kind: ItemKind = ItemKind.TICKET) -> tuple[Placeholder, ...]:
    return PLACEHOLDERS + TIME_PLACEHOLDERS if item_kind == ItemKind.TIMESHEET else PLACEHOLDERS


def check_template(body: str, field: str, item_kind: ItemKind = ItemKind.TICKET) -> None:
    """Placeholders are `{{ name }}` from PLACEHOLDERS; anything else in braces is refused."""
    allowed = placeholders(item_kind)
    for name in template_names(body):
        if name not in {p.name for p in allowed}:
            known = ", ".join(p.name for p in allowed)
            raise Invalid("unknown_placeholder", f"There is no placeholder “{name[:60]}”; use {known}.", field=field)


def template_names(body: str) -> list[str]:
    names = []
    start = body.find("{{")
    while start != -1:
        end = body.find("}}", start + 2)
        if end == -1:
            break
        names.append(body[start + 2:end].strip())
        start = body.find("{{", end + 2)
    return names


def render_template(body: str, values: dict[str, str]) -> str:
    """Replace each `{{ name }}` by its value: text substitution only, so admin text is never run
    as a template (no tags, filters, attribute access or loops)."""
    out: list[str] = []
    position = 0
    start = body.find("{{")
    while start != -1:
        end = body.find("}}", start + 2)
        if end == -1:
            break
        out.append(body[position:start])
        out.append(values.get(body[start + 2:end].strip(), ""))
        position = end + 2
        start = body.find("{{", position)
    out.append(body[position:])
    return "".join(out)


@dataclass(frozen=True)
class Described:
    """A condition or action in words, for the run log and the editor's test."""

    text: str
    matched: bool = True
    details: dict[str, Any] = field(default_factory=dict)
