from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from deskhand.agents.models import Agent
from deskhand.chat.models import Chat, ChatStatus
from deskhand.chat.services import (
    Started,
    accept_chat,
    chat_to_ticket,
    post_agent_message,
    sweep_unanswered,
)
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.errors import Conflict
from deskhand.work.models import Item


def test_an_agent_turns_a_chat_into_a_ticket_with_its_transcript(started: Started, agent: Agent) -> None:
    accept_chat(started.chat, agent=agent, actor=Actor.agent(agent))
    post_agent_message(started.chat, body="Unplug it, please.", agent=agent, actor=Actor.agent(agent))
    item = chat_to_ticket(started.chat, actor=Actor.agent(agent), agent=agent)
    assert item.channel == "chat" and item.requester_id == started.chat.customer_id
    assert "Hello, my printer is on fire" in item.description and "Ana Agent: Unplug it, please." in item.description
    assert list(item.assignees.values_list("agent_id", flat=True)) == [agent.pk]  # type: ignore[attr-defined]
    chat = Chat.objects.get(pk=started.chat.pk)
    assert chat.status == ChatStatus.TICKET and chat.ticket_id == item.pk
    with pytest.raises(Conflict):
        chat_to_ticket(chat, actor=Actor.agent(agent))


def test_the_sweep_turns_an_unanswered_chat_into_a_ticket(started: Started, agent: Agent) -> None:
    update_settings({"chat_accept_seconds": 60}, actor=SYSTEM)
    assert sweep_unanswered(now=timezone.now() + datetime.timedelta(seconds=30)) == 0
    assert sweep_unanswered(now=timezone.now() + datetime.timedelta(seconds=61)) == 1
    chat = Chat.objects.get(pk=started.chat.pk)
    assert chat.status == ChatStatus.TICKET
    item = Item.objects.get(pk=chat.ticket_id)
    assert "Hello, my printer is on fire" in item.description
    assert f"#{item.pk}" in chat.messages.order_by("id").last().body  # type: ignore[union-attr]
    with pytest.raises(Conflict):  # too late to accept
        accept_chat(chat, agent=agent, actor=Actor.agent(agent))
    assert sweep_unanswered(now=timezone.now() + datetime.timedelta(seconds=200)) == 0


def test_an_accepted_chat_is_left_alone_by_the_sweep(started: Started, agent: Agent) -> None:
    accept_chat(started.chat, agent=agent, actor=Actor.agent(agent))
    assert sweep_unanswered(now=timezone.now() + datetime.timedelta(hours=1)) == 0


def test_someone_elses_chat_is_not_theirs_to_turn_into_a_ticket(started: Started, agent: Agent,
                                                               admin: Agent) -> None:
    # Ending and transferring were the accepting agent's (or an admin's); turning the chat into a
    # ticket, which ends it and assigns the ticket to the one who asks, was anyone's.
    from deskhand.core.errors import Forbidden

    other = Agent.objects.create(email="bo@deskhand.test", name="Bo")
    accept_chat(started.chat, agent=agent, actor=Actor.agent(agent))
    with pytest.raises(Forbidden):
        chat_to_ticket(started.chat, actor=Actor.agent(other), agent=other)
    assert Chat.objects.get(pk=started.chat.pk).status == ChatStatus.ACTIVE and not Item.objects.exists()
    item = chat_to_ticket(started.chat, actor=Actor.agent(admin), agent=admin)
    assert Chat.objects.get(pk=started.chat.pk).ticket_id == item.pk
