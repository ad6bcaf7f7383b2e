"""Ready rules beyond the samples (Administration → Automations → Library): each added with one
click, switched on, and then edited like any other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext

from deskhand.automations.models import Automation
from deskhand.automations.rules import (
    Action,
    ActionType,
    Condition,
    ItemKind,
    Op,
    Rule,
    Since,
    Trigger,
    TriggerType,
)
from deskhand.automations.services import create_automation
from deskhand.core.actors import Actor
from deskhand.core.errors import Invalid

HOUR = 60
DAY = 24 * HOUR
CLOSING = ("Hello {{ requester.name }},\n\nwe have not heard from you about {{ item.reference }} “{{ item.title }}” "
           "for a week, so we are closing it. Reply to this mail to open it again.")
DONE = "Hello {{ requester.name }},\n\n{{ item.reference }} “{{ item.title }}” is done. Reply if anything is left."
RECEIVED = ("Hello {{ requester.name }},\n\nwe received your request and filed it as {{ item.reference }}. "
            "We will answer here.")


@dataclass(frozen=True)
class Entry:
    key: str
    title: str
    description: str
    rule: Callable[[], Rule]


def _ticket(name: str, trigger: Trigger, *actions: Action, all: tuple[Condition, ...] = (),
            any: tuple[Condition, ...] = ()) -> Callable[[], Rule]:
    return lambda: Rule(name, ItemKind.TICKET, trigger, all=all, any=any, actions=actions)


def _note(text: str) -> Action:
    return Action(ActionType.NOTE, body=text)


LIBRARY = [
    Entry("escalate_urgent", "Escalate an unanswered urgent ticket",
          "An urgent ticket still new after an hour gets a note for the team.",
          _ticket("Escalate unanswered urgent tickets", Trigger(TriggerType.ELAPSED, since=Since.CREATED, minutes=HOUR),
                  _note("Urgent and unanswered for an hour: please take {{ item.reference }}."),
                  all=(Condition("priority", Op.IS, "urgent"), Condition("status_category", Op.IS, "new")))),
    Entry("stale_pending", "Remind about a stale pending ticket",
          "A ticket pending for three days gets a note: time to ask the customer again.",
          _ticket("Remind about stale pending tickets",
                  Trigger(TriggerType.ELAPSED, since=Since.STATUS_CHANGED, minutes=3 * DAY),
                  _note("Pending for three days: check with the customer."),
                  all=(Condition("status_category", Op.IS, "pending"),))),
    Entry("auto_close", "Close a pending ticket after 7 days",
          "A ticket pending for a week is closed, with a notice to the customer.",
          _ticket("Close pending tickets after a week",
                  Trigger(TriggerType.ELAPSED, since=Since.STATUS_CHANGED, minutes=7 * DAY),
                  Action(ActionType.REPLY, body=CLOSING), Action(ActionType.SET_STATUS, value="done"),
                  all=(Condition("status_category", Op.IS, "pending"),))),
    Entry("unassigned", "Flag tickets nobody has taken",
          "A ticket still without an assignee after four hours gets a note.",
          _ticket("Flag unassigned tickets", Trigger(TriggerType.ELAPSED, since=Since.CREATED, minutes=4 * HOUR),
                  _note("Nobody has taken {{ item.reference }} for four hours."),
                  all=(Condition("assignees", Op.IS_EMPTY), Condition("status_category", Op.IN, ["new", "open"])))),
    Entry("urgent_words", "Urgent words raise the priority",
          "A new ticket that says “urgent”, “down” or “outage” is high priority.",
          _ticket("Urgent words raise the priority", Trigger(TriggerType.CREATED),
                  Action(ActionType.SET_PRIORITY, value="high"),
                  all=(Condition("priority", Op.IN, ["low", "normal"]),),
                  any=(Condition("text", Op.CONTAINS, "urgent"), Condition("text", Op.CONTAINS, "down"),
                       Condition("text", Op.CONTAINS, "outage")))),
    Entry("vip", "VIP customers come first",
          "A new ticket from a customer of the type “VIP” is high priority.",
          _ticket("VIP customers come first", Trigger(TriggerType.CREATED),
                  Action(ActionType.SET_PRIORITY, value="high"),
                  all=(Condition("requester.customer_type", Op.IS, "VIP"),))),
    Entry("acknowledge_web", "Confirm requests from the web",
          "A ticket from the portal or a web form gets a reply saying it was received (mail has its own).",
          _ticket("Confirm requests from the web", Trigger(TriggerType.CREATED),
                  Action(ActionType.REPLY, body=RECEIVED),
                  all=(Condition("channel", Op.IN, ["portal", "form"]),))),
    Entry("tell_done", "Tell the customer when a ticket is done",
          "A ticket changed to done sends the requester a short reply.",
          _ticket("Tell the customer when done", Trigger(TriggerType.CHANGED, field="status", to_value="done"),
                  Action(ActionType.REPLY, body=DONE))),
    Entry("sla_at_risk", "Raise the priority when the SLA is at risk",
          "A ticket whose SLA is at risk becomes high priority, with a note.",
          _ticket("Raise the priority when the SLA is at risk", Trigger(TriggerType.SLA_AT_RISK),
                  Action(ActionType.SET_PRIORITY, value="high"), _note("SLA at risk."),
                  all=(Condition("priority", Op.IN, ["low", "normal"]),))),
    Entry("sla_breached", "Make a breached ticket urgent",
          "A ticket whose SLA is breached becomes urgent, with a note.",
          _ticket("Make breached tickets urgent", Trigger(TriggerType.SLA_BREACHED),
                  Action(ActionType.SET_PRIORITY, value="urgent"), _note("SLA breached."))),
    Entry("reopen", "A customer reply reopens the ticket",
          "A reply from the customer on a pending or done ticket sets it open again.",
          _ticket("A customer reply reopens the ticket", Trigger(TriggerType.CUSTOMER_REPLIED),
                  Action(ActionType.SET_STATUS, value="open"),
                  all=(Condition("status_category", Op.IN, ["pending", "done"]),))),
    Entry("customer_project", "Each organization's tickets in its own project",
          "A new ticket goes to its organization's project, made the first time.",
          _ticket("Each organization's tickets in its own project", Trigger(TriggerType.CREATED),
                  Action(ActionType.CUSTOMER_PROJECT))),
]
BY_KEY = {entry.key: entry for entry in LIBRARY}


def add_from_library(key: str, *, actor: Actor) -> Automation:
    """The library's rule, as a new automation of its own (switched on, editable)."""
    entry = BY_KEY.get(key)
    if entry is None:
        raise Invalid("unknown_library_rule", gettext("There is no such rule in the library."), field="key")
    return create_automation(entry.rule(), actor=actor)
