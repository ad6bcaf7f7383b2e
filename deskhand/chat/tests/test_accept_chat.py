from __future__ import annotations

from typing import Any

import pytest

from deskhand.agents.models import Agent
from deskhand.chat.models import Author, ChatStatus
from deskhand.chat.services import Started, accept_chat, post_agent_message, post_customer_message
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Forbidden


def test_the_first_agent_gets_the_chat_and_the_second_is_told(started: Started, agent: Agent, admin: Agent) -> None:
    chat = accept_chat(started.chat, agent=agent, actor=Actor.agent(agent))
    assert chat.status == ChatStatus.ACTIVE and chat.agent_id == agent.pk and chat.accepted_by_id == agent.pk
    last = chat.messages.order_by("id").last()
    assert last is not None and last.author == Author.SYSTEM and "Ana Agent" in last.body
    with pytest.raises(Conflict):
        accept_chat(started.chat, agent=admin, actor=Actor.agent(admin))


def test_only_the_agent_who_has_the_chat_answers(started: Started, agent: Agent, admin: Agent) -> None:
    with pytest.raises(Forbidden):
        post_agent_message(started.chat, body="Hello", agent=agent, actor=Actor.agent(agent))
    accept_chat(started.chat, agent=agent, actor=Actor.agent(agent))
    with pytest.raises(Forbidden):
        post_agent_message(started.chat, body="Hello", agent=admin, actor=Actor.agent(admin))
    message = post_agent_message(started.chat, body="Hello Zoe", agent=agent, actor=Actor.agent(agent))
    assert message.author == Author.AGENT and message.name == "Ana Agent"
    reply = post_customer_message(started.chat, body="Thanks")
    assert [m.body for m in started.chat.messages.filter(author__in=["agent", "customer"])] == [
        "Hello, my printer is on fire", "Hello Zoe", "Thanks"]
    assert reply.pk > message.pk


def test_messages_are_rate_limited_and_length_limited(started: Started, db: Any) -> None:
    from deskhand.chat.services import MESSAGES_PER_MINUTE, TooMany
    from deskhand.core.errors import Invalid

    with pytest.raises(Invalid):
        post_customer_message(started.chat, body="x" * 2001)
    for number in range(MESSAGES_PER_MINUTE - 1):  # the first message counts
        post_customer_message(started.chat, body=f"message {number}")
    with pytest.raises(TooMany):
        post_customer_message(started.chat, body="one too many")
