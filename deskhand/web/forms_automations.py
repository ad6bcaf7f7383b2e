"""The automation editor's form: rows of pickers (no JSON) read into a typed `Rule`. Like the
other forms of the agents' app it only reads what was typed; the automation services decide what
is valid and name the field at fault (`conditions.all.0.value`), which the page shows at its row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext, gettext_noop

from deskhand.agents.models import Agent, Team
from deskhand.automations.rules import (
    ACTIONS,
    FIELDS,
    PROJECT_FIELDS,
    SETTABLE,
    TIME_FIELDS,
    TRIGGERS,
    Action,
    ActionType,
    AssignMode,
    Condition,
    FieldKind,
    ItemKind,
    Op,
    Rule,
    Since,
    Trigger,
    TriggerType,
    field_kind,
)
from deskhand.core.errors import Invalid
from deskhand.core.numbers import parse_id, parse_int
from deskhand.fields.models import CustomField
from deskhand.sla.models import SlaPolicy
from deskhand.work.models import Folder, Portfolio, Priority, Project, Status


def _label(text: str) -> str:
    """A label marked with gettext_noop, in the active language ("" stays "": gettext("") is the header)."""
    return gettext(text) if text else ""


MAX_ROWS = 20
TRIGGER_LABELS = {
    "created": gettext_noop("Created"), "updated": gettext_noop("Any update"), "changed": gettext_noop("A property changed"),
    "elapsed": gettext_noop("Time passed"), "customer_replied": gettext_noop("The customer replied"), "agent_replied": gettext_noop("An agent replied"),
    "sla_breached": gettext_noop("SLA breached"), "sla_at_risk": gettext_noop("SLA at risk"),
}
SINCE_LABELS = {"created": gettext_noop("it was created"), "last_customer_message": gettext_noop("the last customer message"),
                "last_agent_reply": gettext_noop("the last agent reply"), "status_changed": gettext_noop("its status changed")}
OP_LABELS = {"is": gettext_noop("is"), "is_not": gettext_noop("is not"), "contains": gettext_noop("contains"), "not_contains": gettext_noop("does not contain"),
             "in": gettext_noop("is one of"), "gt": gettext_noop("is more than"), "lt": gettext_noop("is less than"), "is_empty": gettext_noop("is empty"),
             "changed": gettext_noop("changed")}
ACTION_LABELS = {
    "assign": gettext_noop("Assign to"), "set_status": gettext_noop("Set status"), "set_priority": gettext_noop("Set priority"), "set_field": gettext_noop("Set field"),
    "move_to_project": gettext_noop("Move to project"), "customer_project": gettext_noop("Move to the customer's project"),
    "add_follower": gettext_noop("Add follower"), "apply_sla": gettext_noop("Apply SLA"), "send_survey": gettext_noop("Send a satisfaction survey"),
    "reply": gettext_noop("Reply to the customer"), "note": gettext_noop("Add an internal note"), "add_folder": gettext_noop("Add a folder"),
}
SET_LABELS = {"project": gettext_noop("Put in portfolio"), "timesheet": gettext_noop("Set billable")}
FIELD_LABELS = {
    "title": gettext_noop("Title"), "description": gettext_noop("Description"), "text": gettext_noop("Title, description or last message"),
    "message": gettext_noop("Last message"), "status": gettext_noop("Status"), "status_category": gettext_noop("Status category"), "priority": gettext_noop("Priority"),
    "channel": gettext_noop("Channel"), "mailbox": gettext_noop("Ticket address"), "project": gettext_noop("Project (id)"), "folder": gettext_noop("Folder (id)"),
    "assignees": gettext_noop("Assignees (agent:3, team:2)"), "requester": gettext_noop("Requester (id)"), "requester.email": gettext_noop("Requester email"),
    "requester.domain": gettext_noop("Requester domain"), "requester.name": gettext_noop("Requester name"),
    "requester.customer_type": gettext_noop("Requester type"), "requester.language": gettext_noop("Requester language"),
    "organization": gettext_noop("Organization (id)"), "organization.name": gettext_noop("Organization name"),
    # projects
    "name": gettext_noop("Project name"), "portfolio": gettext_noop("Portfolio (id)"),
    # time entries
    "minutes": gettext_noop("Minutes"), "billable": gettext_noop("Billable (yes or no)"), "note": gettext_noop("Note"), "agent": gettext_noop("Agent (id)"),
    "item.kind": gettext_noop("Logged on a (ticket or task)"),
}


def _kind_fields(kind: str) -> list[tuple[str, str]]:
    """The properties a rule of `kind` tests, with their labels (custom fields come after)."""
    if kind == ItemKind.PROJECT:
        return [(name, _label(FIELD_LABELS.get(name, name))) for name in PROJECT_FIELDS]
    if kind == ItemKind.TIMESHEET:
        return [(name, _label(FIELD_LABELS.get(name, name))) for name in TIME_FIELDS] + [
            (f"item.{name}", gettext("Item: %(field)s") % {"field": _label(FIELD_LABELS.get(name, name))}) for name in FIELDS
            if name not in ("text", "message")]
    return [(name, _label(FIELD_LABELS.get(name, name))) for name in FIELDS]


@dataclass
class Pickers:
    """What the editor's selects offer for one item kind."""

    kind: str
    fields: list[tuple[str, str]]
    agents: list[Agent]
    teams: list[Team]
    statuses: list[Status]
    projects: list[Project]
    folders: list[Folder]
    item_fields: list[CustomField]
    policies: list[SlaPolicy]
    portfolios: list[Portfolio]
    triggers: list[tuple[str, str]]
    actions: list[tuple[str, str]]
    priorities: list[tuple[str, str]] = field(default_factory=lambda: [(p.key, p.label) for p in Priority])

    @property
    def settable(self) -> str:
        """What `set_field` sets on this kind: a custom field ("") or a project's or a time entry's own."""
        return SETTABLE.get(ItemKind(self.kind), "")

    @classmethod
    def load(cls, kind: str) -> Pickers:
        item_kind = ItemKind(kind)
        custom = list(CustomField.objects.order_by("applies_to", "position", "id"))
        fields = _kind_fields(kind)
        prefix = "item." if item_kind == ItemKind.TIMESHEET else ""
        if item_kind != ItemKind.PROJECT:
            fields += [(f"{prefix}custom_fields.{f.key}", f"{f.applies_to.capitalize()}: {f.label}") for f in custom
                       if f.applies_to == kind or (prefix and f.applies_to in (ItemKind.TICKET, ItemKind.TASK))]
            fields += [(f"{prefix}requester.custom_fields.{f.key}", gettext("Requester: %(field)s") % {"field": f.label}) for f in custom
                       if f.applies_to == "customer"]
        fields += [(f"{prefix}organization.custom_fields.{f.key}", gettext("Organization: %(field)s") % {"field": f.label}) for f in custom
                   if f.applies_to == "organization"]
        items = item_kind in (ItemKind.TICKET, ItemKind.TASK)
        return cls(kind=kind, fields=fields, agents=list(Agent.objects.filter(is_active=True).order_by("name", "email")),
                   teams=list(Team.objects.order_by("name")) if items else [],
                   statuses=list(Status.objects.filter(kind=kind)) if items else [],
                   projects=list(Project.objects.order_by("name").only("id", "name")) if items else [],
                   folders=list(Folder.objects.select_related("project").order_by("project__name", "name"))
                   if items else [],
                   item_fields=[f for f in custom if f.applies_to == kind],
                   policies=list(SlaPolicy.objects.order_by("name")) if items else [],
                   portfolios=list(Portfolio.objects.order_by("name")) if item_kind == ItemKind.PROJECT else [],
                   triggers=[(k, _label(label)) for k, label in TRIGGER_LABELS.items() if k in TRIGGERS[item_kind]],
                   actions=[(k, _label(SET_LABELS.get(kind, label)) if k == ActionType.SET_FIELD else _label(label))
                            for k, label in ACTION_LABELS.items() if k in ACTIONS[item_kind]])


def row_indexes(data: QueryDict, prefix: str) -> list[int]:
    """The indexes of the rows a form sent (`all-0-field`, `all-3-field`, …), in order."""
    found = set()
    for key in data:
        head, _, rest = key.partition("-")
        index, _, _name = rest.partition("-")
        if head == prefix and index.isdigit() and len(index) < 4:
            found.add(int(index))
    return sorted(found)[:MAX_ROWS]


YES = ("yes", "true", "1", "on")
NO = ("no", "false", "0", "off")


def _bool(text: str, at: str) -> bool:
    if text.strip().lower() in YES:
        return True
    if text.strip().lower() in NO:
        return False
    raise Invalid("invalid_value", gettext("Give yes or no."), field=at)


def _value(text: str, name: str, op: Op, at: str, item_kind: ItemKind) -> Any:
    """A condition's typed value from the text box, by what the field compares."""
    kind = field_kind(name, item_kind)
    text = text.strip()
    if op in (Op.IS_EMPTY, Op.CHANGED):
        return None
    if kind == FieldKind.BOOL:
        return _bool(text, at)
    if op == Op.IS_NOT and not text and kind == FieldKind.ID:
        return None  # "is not" nothing: has one
    if op == Op.IN:
        parts = [part.strip() for part in text.split(",") if part.strip()]
        return [parse_id(p, field=at) if kind == FieldKind.ID else _scalar(p) for p in parts]
    if kind == FieldKind.ID:
        return parse_id(text, field=at, what=_label(FIELD_LABELS.get(name, name)))
    if op in (Op.GT, Op.LT) or kind == FieldKind.NUMBER:
        try:
            return float(text) if "." in text else parse_int(text, field=at, minimum=-(2**53), maximum=2**53)
        except (ValueError, Invalid):
            raise Invalid("invalid_value", gettext("Give a number."), field=at) from None
    return _scalar(text) if kind == FieldKind.ANY else text


def _scalar(text: str) -> Any:
    """A custom field's value as stored: whole numbers as numbers, the rest as text."""
    return int(text) if text.isdigit() and len(text) < 16 else text


def _conditions(data: QueryDict, prefix: str, item_kind: ItemKind) -> tuple[Condition, ...]:
    conditions = []
    for number, index in enumerate(row_indexes(data, prefix)):
        name = data.get(f"{prefix}-{index}-field", "")
        if not name:
            continue  # an empty row
        at = f"conditions.{prefix}.{number}"
        op_text = data.get(f"{prefix}-{index}-op", "")
        if op_text not in Op.__members__.values():
            raise Invalid("invalid_op", gettext("Choose how to compare."), field=f"{at}.op")
        op = Op(op_text)
        conditions.append(Condition(name, op, _value(data.get(f"{prefix}-{index}-value", ""), name, op,
                                                     f"{at}.value", item_kind)))
    return tuple(conditions)


def _optional_id(text: str, at: str) -> int | None:
    return parse_id(text, field=at) if text else None


def _set_value(text: str, item_kind: ItemKind, at: str) -> Any:
    """`set_field`'s value: a custom field's as typed, a portfolio's id (none when empty), billable."""
    if item_kind == ItemKind.PROJECT:
        return _optional_id(text, at)
    if item_kind == ItemKind.TIMESHEET:
        return _bool(text, at)
    return _scalar(text)


def read_actions(data: QueryDict, item_kind: ItemKind = ItemKind.TICKET) -> tuple[Action, ...]:
    """The action rows (`action-N-type`, …) as typed actions; empty rows are skipped."""
    actions = []
    for number, index in enumerate(row_indexes(data, "action")):
        def get(name: str, index: int = index) -> str:
            return str(data.get(f"action-{index}-{name}", "")).strip()

        kind = get("type")
        if not kind:
            continue
        at = f"actions.{number}"
        if kind not in ActionType.__members__.values():
            raise Invalid("unknown_action", gettext("Choose what to do."), field=f"{at}.type")
        action_type = ActionType(kind)
        assignee, _, assignee_id = get("assignee").partition(":")
        mode = get("mode") or AssignMode.TEAM
        if mode not in AssignMode.__members__.values():
            raise Invalid("invalid_mode", gettext("Choose how to pick the agent."), field=f"{at}.mode")
        value: Any = {ActionType.SET_STATUS: get("status"), ActionType.SET_PRIORITY: get("priority")}.get(action_type)
        if action_type == ActionType.SET_FIELD:
            value = _set_value(get("value"), item_kind, f"{at}.value")
        actions.append(Action(
            type=action_type,
            agent=_optional_id(assignee_id, f"{at}.agent") if assignee == "agent" else (
                _optional_id(get("follower"), f"{at}.agent") if action_type == ActionType.ADD_FOLLOWER else None),
            team=_optional_id(assignee_id, f"{at}.team") if assignee == "team" else None,
            mode=AssignMode(mode) if assignee == "team" else AssignMode.TEAM,
            value=value, field=SETTABLE.get(item_kind) or get("field"),
            project=_optional_id(get("project"), f"{at}.project"), name=get("name"),
            folder=_optional_id(get("folder"), f"{at}.folder"), sla=_optional_id(get("sla"), f"{at}.sla"),
            body=data.get(f"action-{index}-body", ""),
        ))
    return tuple(actions)


def _trigger(data: QueryDict) -> Trigger:
    kind = data.get("trigger", "")
    if kind not in TriggerType.__members__.values():
        raise Invalid("invalid_trigger", gettext("Choose when the rule runs."), field="trigger")
    trigger_type = TriggerType(kind)
    if trigger_type == TriggerType.CHANGED:
        return Trigger(trigger_type, field=data.get("trigger_field", ""),
                       from_value=data.get("trigger_from", "").strip() or None,
                       to_value=data.get("trigger_to", "").strip() or None)
    if trigger_type == TriggerType.ELAPSED:
        since = data.get("since", "")
        minutes = parse_int(data.get("minutes", "").strip() or "0", field="trigger.minutes",
                            message=gettext("Minutes are a whole number."))
        return Trigger(trigger_type, since=Since(since) if since in Since.__members__.values() else None,
                       minutes=minutes)
    return Trigger(trigger_type)


def read_rule(data: QueryDict, kind: str) -> Rule:
    """The editor's rows as a Rule; Invalid names the row at fault."""
    if kind not in ItemKind.__members__.values():
        raise Invalid("invalid_kind", gettext("Rules are for tickets, tasks, projects or timesheets."), field="item_kind")
    item_kind = ItemKind(kind)
    return Rule(name=data.get("name", ""), item_kind=item_kind, trigger=_trigger(data),
                all=_conditions(data, "all", item_kind), any=_conditions(data, "any", item_kind),
                actions=read_actions(data, item_kind), enabled=data.get("enabled") == "on")


def describe_trigger(trigger: dict[str, Any]) -> str:
    """A stored trigger in words, for the list."""
    kind = str(trigger.get("type", ""))
    text = _label(TRIGGER_LABELS.get(kind, kind))
    if kind == "changed":
        changed = trigger.get("field") or ""
        text = gettext("%(field)s changed") % {"field": _label(FIELD_LABELS.get(changed, changed)) if changed
                                                else gettext("Anything")}
        if trigger.get("from") is not None:
            text += f" from {trigger['from']}"
        if trigger.get("to") is not None:
            text += f" to {trigger['to']}"
    if kind == "elapsed":
        since = SINCE_LABELS.get(trigger.get("since") or "")
        text = gettext("%(minutes)s minutes after %(since)s") % {"minutes": trigger.get("minutes"),
                                                                 "since": _label(since) if since else ""}
    return text


@dataclass
class Names:
    """The names an action's ids stand for, read once for a page of rules."""

    agents: dict[int, str]
    teams: dict[int, str]
    projects: dict[int, str]
    policies: dict[int, str]
    portfolios: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Names:
        return cls(agents={a.pk: a.display_name for a in Agent.objects.all()},
                   teams=dict(Team.objects.values_list("pk", "name")),
                   projects=dict(Project.objects.values_list("pk", "name")),
                   policies=dict(SlaPolicy.objects.values_list("pk", "name")),
                   portfolios=dict(Portfolio.objects.values_list("pk", "name")))


MODE_WORDS = {"round_robin": gettext_noop("agents in turn"), "least_busy": gettext_noop("the least busy agent")}


def describe_action(action: dict[str, Any], names: Names | None = None) -> str:
    """An action in words, with names for its ids where `names` has them."""
    kind = str(action.get("type", ""))
    label = _label(ACTION_LABELS.get(kind, kind))
    n = names or Names({}, {}, {}, {})
    if kind == "assign":
        agent = action.get("agent")
        if agent:
            who = n.agents.get(agent) or gettext("agent %(id)s") % {"id": agent}
            return f"{label} {who}"
        team = n.teams.get(action.get("team") or 0, gettext("team %(id)s") % {"id": action.get("team")})
        mode_word = MODE_WORDS.get(action.get("mode") or "")
        mode = _label(mode_word) if mode_word else None
        return f"{label} {team}" + (f" ({mode})" if mode else "")
    if kind in ("set_status", "set_priority"):
        return gettext("%(action)s to %(value)s") % {"action": label, "value": action.get("value")}
    if kind == "set_field":
        value = action.get("value")
        if action.get("field") == "portfolio":
            return (gettext("Move to portfolio %(name)s") % {"name": n.portfolios.get(value or 0, value)} if value
                    else gettext("Take out of its portfolio"))
        if isinstance(value, bool):
            return gettext("Mark billable") if value else gettext("Mark not billable")
        return gettext("%(action)s %(field)s to %(value)s") % {"action": label, "field": action.get("field"), "value": value}
    if kind == "add_folder":
        return f"{label} {action.get('name')}"
    if kind == "move_to_project":
        return f"{label} {n.projects.get(action.get('project') or 0, action.get('project'))}"
    if kind == "add_follower":
        person = n.agents.get(action.get("agent") or 0) or gettext("customer %(id)s") % {"id": action.get("customer")}
        return f"{label} {person}"
    if kind == "apply_sla":
        return f"{label} {n.policies.get(action.get('sla') or 0, action.get('sla'))}"
    return label


ACTION_FIELDS = ("type", "assignee", "mode", "status", "priority", "field", "value", "project", "folder", "sla",
                 "follower", "body", "name")
BLANK_ACTION = {name: "team" if name == "mode" else "" for name in ACTION_FIELDS}


def text_of(value: Any) -> str:
    """A stored value as the editor's text box shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def action_rows(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored actions as the editor's rows of pickers."""
    return [{
        "type": a["type"], "assignee": f"agent:{a['agent']}" if a.get("agent") and a["type"] == "assign" else (
            f"team:{a['team']}" if a.get("team") else ""), "mode": a.get("mode") or "team",
        "status": a.get("value") if a["type"] == "set_status" else "",
        "priority": a.get("value") if a["type"] == "set_priority" else "",
        "field": a.get("field") or "", "value": text_of(a.get("value")) if a["type"] == "set_field" else "",
        "project": a.get("project") or "", "folder": a.get("folder") or "", "sla": a.get("sla") or "",
        "follower": (a.get("agent") or "") if a["type"] == "add_follower" else "", "body": a.get("body") or "",
        "name": a.get("name") or "",
    } for a in actions]


def posted_action_rows(data: QueryDict) -> list[dict[str, str]]:
    """The action rows as they were typed, to show them again with an error."""
    return [{name: data.get(f"action-{index}-{name}", "") for name in ACTION_FIELDS} for index in row_indexes(data, "action")]
