from __future__ import annotations

import pytest

from deskhand.agents.models import Agent
from deskhand.agents.services import create_team
from deskhand.chat.models import ChatStatus
from deskhand.chat.services import Started, accept_chat, end_chat, post_customer_message, transfer_chat
from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.errors import Conflict, Forbidden


def test_transfer_to_an_agent_makes_it_theirs(started: Started, agent: Agent, admin: Agent) -> None:
    accept_chat(started.chat, agent=agent, actor=Actor.agent(agent))
    chat = transfer_chat(started.chat, to_agent=admin, actor=Actor.agent(agent))
    assert chat.status == ChatStatus.ACTIVE and chat.agent_id == admin.pk and chat.accepted_by_id == agent.pk
    assert "Ada Admin" in chat.messages.order_by("id").last().body  # type: ignore[union-attr]


def test_transfer_to_a_team_waits_again(started: Started, agent: Agent, admin: Agent) -> None:
    team = create_team("Billing", actor=SYSTEM)
    accept_chat(started.chat, agent=agent, actor=Actor.agent(agent))
    chat = transfer_chat(started.chat, to_team=team, actor=Actor.agent(agent))
    assert chat.status == ChatStatus.WAITING and chat.team_id == team.pk and chat.agent_id is None
    assert accept_chat(chat, agent=admin, actor=Actor.agent(admin)).agent_id == admin.pk


def test_someone_elses_chat_cannot_be_transferred(started: Started, agent: Agent, admin: Agent) -> None:
    other = Agent.objects.create(email="bo@deskhand.test", name="Bo")
    accept_chat(started.chat, agent=agent, actor=Actor.agent(agent))
    with pytest.raises(Forbidden):
        transfer_chat(started.chat, to_agent=admin, actor=Actor.agent(other))


def test_an_ended_chat_takes_no_more_messages(started: Started) -> None:
    chat = end_chat(started.chat, actor=Actor.customer("zoe@example.org"))
    assert chat.status == ChatStatus.ENDED and chat.ended_at is not None
    assert end_chat(chat, actor=Actor.customer("zoe@example.org")).status == ChatStatus.ENDED  # again: no change
    with pytest.raises(Conflict):
        post_customer_message(chat, body="Still there?")
