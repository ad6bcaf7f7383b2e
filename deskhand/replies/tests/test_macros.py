"""Macros: a reply and changes in one click, through the automations' parser and the engine's
own step; the history says "via macro"; a macro that fails changes nothing."""

from __future__ import annotations

import pytest

from deskhand.agents.models import Agent
from deskhand.audit.models import AuditEvent
from deskhand.automations.rules import Action, ActionType, AssignMode
from deskhand.core.actors import Actor
from deskhand.core.errors import Forbidden, Invalid, NotFound
from deskhand.mail.models import OutboundMessage
from deskhand.replies.inputs import MacroChanges, NewMacro
from deskhand.replies.models import Macro
from deskhand.replies.queries import get_macro_for_agent, macro_list
from deskhand.replies.services import apply_macro, create_macro, update_macro
from deskhand.work.models import Item, Message, Status

pytestmark = pytest.mark.django_db


def _macro(actor: Actor, **extra: object) -> Macro:
    return create_macro(NewMacro(name="Waiting on customer", reply="Hi {{ requester.first_name }}, could you send "
                                 "the logs? {{ agent.first_name }}", actions=(
                                     Action(ActionType.SET_STATUS, value="pending"),
                                     Action(ActionType.SET_PRIORITY, value="high"),
                                     Action(ActionType.ASSIGN, agent=actor.agent_id)), **extra), actor=actor)  # type: ignore[arg-type]


def test_applying_a_macro_replies_and_changes_the_ticket_in_its_agents_name(
        ticket: Item, agent: Agent, agent_actor: Actor) -> None:
    macro = _macro(agent_actor)
    message = apply_macro(ticket, macro, actor=agent_actor)
    ticket.refresh_from_db()
    assert ticket.status.key == "pending" and ticket.priority_key == "high"
    assert [a.agent_id for a in ticket.assignees.all()] == [agent.pk]
    assert message is not None and message.body == "Hi Bob, could you send the logs? Ana"
    assert OutboundMessage.objects.filter(message=message, to=["bob.stone@acme.example"]).exists()
    labels = set(AuditEvent.objects.filter(object_type="item", object_id=ticket.pk).exclude(
        action="ticket.created").values_list("action", "actor_label"))
    via = "ana@deskhand.test via macro “Waiting on customer”"
    assert labels == {("message.reply", via), ("ticket.updated", via), ("macro.applied", via)}
    applied = AuditEvent.objects.get(action="macro.applied")
    assert applied.changes["did"] == ["replied", "status set to pending", "priority set to high",
                                      "assigned to Ana Agent"]


def test_a_macro_that_fails_changes_nothing(ticket: Item, agent_actor: Actor, admin: Agent) -> None:
    macro = _macro(agent_actor)
    Status.objects.filter(kind="ticket", key="pending").update(key="on-hold")  # renamed since the macro was made
    before = ticket.status_id
    with pytest.raises(Invalid) as refused:
        apply_macro(ticket, macro, actor=agent_actor)
    assert refused.value.field == "actions.0.value"
    ticket.refresh_from_db()
    assert ticket.status_id == before and ticket.priority_key == "normal"
    assert not Message.objects.exists() and not OutboundMessage.objects.exists()
    assert not AuditEvent.objects.filter(object_type="item", action__in=["ticket.updated", "macro.applied"]).exists()


def test_personal_macros_are_their_owners_and_shared_ones_admins(agent: Agent, bea: Agent, admin: Agent,
                                                                 agent_actor: Actor, ticket: Item) -> None:
    mine = _macro(agent_actor)
    assert list(macro_list(bea.pk)) == []
    with pytest.raises(NotFound):
        get_macro_for_agent(bea.pk, mine.pk)
    with pytest.raises(Forbidden):
        apply_macro(ticket, mine, actor=Actor.agent(bea))
    with pytest.raises(Forbidden):
        create_macro(NewMacro(name="Shared", reply="Hi", shared=True), actor=agent_actor)
    shared = create_macro(NewMacro(name="Shared", reply="Hi", shared=True), actor=Actor.agent(admin))
    assert list(macro_list(bea.pk)) == [shared]
    with pytest.raises(Forbidden):
        update_macro(shared, changes=MacroChanges(reply="Bye"), actor=agent_actor)
    update_macro(mine, changes=MacroChanges(name="Logs please", reply=""), actor=agent_actor)
    mine.refresh_from_db()
    assert mine.name == "Logs please" and mine.reply == "" and len(mine.actions) == 3


@pytest.mark.parametrize(("new", "field", "code"), [
    (NewMacro(name="m"), "actions", "empty_macro"),
    (NewMacro(name="m", actions=(Action(ActionType.REPLY, body="x"),)), "actions.0.type", "invalid_action"),
    (NewMacro(name="m", actions=(Action(ActionType.SET_STATUS, value="nope"),)), "actions.0.value", "unknown_value"),
    (NewMacro(name="m", actions=(Action(ActionType.ASSIGN, agent=999_999),)), "actions.0.agent", "unknown_agent"),
    (NewMacro(name="m", actions=(Action(ActionType.ASSIGN, team=1, mode=AssignMode.ROUND_ROBIN),)),
     "actions.0.mode", "invalid_mode"),
    (NewMacro(name="m", reply="{{ item.secret }}"), "reply", "unknown_placeholder"),
])
def test_macro_actions_are_checked_by_the_automations_parser(agent_actor: Actor, new: NewMacro, field: str,
                                                            code: str) -> None:
    with pytest.raises(Invalid) as refused:
        create_macro(new, actor=agent_actor)
    assert (refused.value.field, refused.value.code) == (field, code)


def test_the_item_history_says_which_macro_did_it(ticket: Item, agent_actor: Actor, agent_client: object) -> None:
    apply_macro(ticket, _macro(agent_actor), actor=agent_actor)
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()  # type: ignore[attr-defined]
    assert ("Ana Agent via macro “Waiting on customer” applied: replied; status set to pending; "
            "priority set to high; assigned to Ana Agent") in page
    assert page.count("Ana Agent via macro “Waiting on customer”") >= 3  # the reply, the changes, the summary


def test_a_customer_title_filled_into_a_macro_stays_text(ticket: Item, agent_actor: Actor) -> None:
    Item.objects.filter(pk=ticket.pk).update(
        title="Urgent [Reset your password](https://evil.example/login) ![](https://tracker.example/p.gif) <b>")
    ticket.refresh_from_db()
    macro = create_macro(NewMacro(name="Looking", reply="Hello, we are looking at “{{ item.title }}”."),
                         actor=agent_actor)
    message = apply_macro(ticket, macro, actor=agent_actor)
    assert message is not None
    assert "<a " not in message.body_html and "<img" not in message.body_html and "<b>" not in message.body_html
    assert "[Reset your password](https://evil.example/login)" in message.body_html
