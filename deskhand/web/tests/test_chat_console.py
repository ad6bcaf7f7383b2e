"""The agents' chat console: lists, accept, reply, transfer, end and "Turn into ticket"."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from deskhand.agents.models import Agent
from deskhand.agents.services import create_team
from deskhand.chat.inputs import ChatStart
from deskhand.chat.models import Chat, ChatStatus
from deskhand.chat.services import Started, start_chat
from deskhand.core.actors import SYSTEM


def _started(db: Any) -> Started:
    return start_chat(ChatStart(message="My invoice is wrong", client="1.2.3.4", email="zoe@example.org", name="Zoe"))


def test_console_lists_waiting_chats_and_the_agent_accepts_and_replies(agent: Agent, client: Client) -> None:
    started = _started(None)
    client.force_login(agent)
    page = client.get("/chats")
    assert page.status_code == 200 and "Zoe" in page.content.decode() and 'id="chat-badge"' in page.content.decode()
    opened = client.get(f"/chats?chat={started.chat.pk}").content.decode()
    assert "My invoice is wrong" in opened and "Accept" in opened
    assert client.post(f"/chats/{started.chat.pk}/accept").status_code == 302
    sent = client.post(f"/chats/{started.chat.pk}/reply", {"body": "Let me look."}, HTTP_ACCEPT="application/json")
    assert sent.status_code == 201
    assert Chat.objects.get(pk=started.chat.pk).messages.filter(author="agent", body="Let me look.").exists()
    assert json.loads(client.get("/chats/counts").content) == {"waiting": 0, "mine": 1}


def test_a_reply_before_accepting_is_refused(agent: Agent, client: Client) -> None:
    started = _started(None)
    client.force_login(agent)
    answer = client.post(f"/chats/{started.chat.pk}/reply", {"body": "Hi"}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 403 and answer.json()["detail"]


def test_transfer_end_and_turn_into_ticket(agent: Agent, admin: Agent, client: Client) -> None:
    started = _started(None)
    team = create_team("Billing", actor=SYSTEM)
    client.force_login(agent)
    client.post(f"/chats/{started.chat.pk}/accept")
    client.post(f"/chats/{started.chat.pk}/transfer", {"to": f"team:{team.pk}"})
    chat = Chat.objects.get(pk=started.chat.pk)
    assert chat.status == ChatStatus.WAITING and chat.team_id == team.pk
    client.post(f"/chats/{started.chat.pk}/accept")
    answer = client.post(f"/chats/{started.chat.pk}/ticket")
    chat = Chat.objects.get(pk=started.chat.pk)
    assert chat.status == ChatStatus.TICKET and answer["Location"] == f"/tickets/{chat.ticket_id}"
    shown = client.get(f"/chats?chat={chat.pk}").content.decode()
    assert f"#{chat.ticket_id}" in shown and "Turn into ticket" not in shown


def test_the_streams_need_a_signed_in_agent(db: Any, client: Client) -> None:
    assert client.get("/chats/queue/events").status_code == 401
    assert client.get("/chats").status_code == 302


def test_an_address_nobody_signed_in_for_is_marked_unverified(agent: Agent, client: Client) -> None:
    # Anyone can type an existing customer's address into the widget: the agent must not take the
    # visitor for that customer (and tell them about the customer's requests).
    from deskhand.customers.models import Customer

    typed = _started(None)
    customer = Customer.objects.get(email="zoe@example.org")
    signed_in = start_chat(ChatStart(message="Hello again", client="1.2.3.5", customer_id=customer.pk))
    client.force_login(agent)
    assert "Unverified address" in client.get(f"/chats?chat={typed.chat.pk}").content.decode()
    assert "Unverified address" not in client.get(f"/chats?chat={signed_in.chat.pk}").content.decode()
