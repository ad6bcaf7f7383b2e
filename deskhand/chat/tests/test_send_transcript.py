from __future__ import annotations

import pytest

from deskhand.agents.models import Agent
from deskhand.chat.services import (
    TRANSCRIPTS_PER_CHAT,
    Started,
    TooMany,
    accept_chat,
    post_agent_message,
    send_transcript,
)
from deskhand.core.actors import Actor
from deskhand.mail.models import OutboundMessage


def test_the_transcript_goes_to_the_chat_address_in_its_language(started: Started, agent: Agent) -> None:
    accept_chat(started.chat, agent=agent, actor=Actor.agent(agent))
    post_agent_message(started.chat, body="Unplug it, please.", agent=agent, actor=Actor.agent(agent))
    assert send_transcript(started.chat, actor=Actor.customer("zoe@example.org")) == "zoe@example.org"
    mail = OutboundMessage.objects.get(kind="chat_transcript")
    assert mail.to == ["zoe@example.org"] and mail.headers.get("Content-Language") == "de"
    assert "Unplug it, please." in mail.body_text and "Hello, my printer is on fire" in mail.body_text


def test_the_count_is_capped(started: Started) -> None:
    for _ in range(TRANSCRIPTS_PER_CHAT):
        send_transcript(started.chat, actor=Actor.customer("zoe@example.org"))
    with pytest.raises(TooMany):
        send_transcript(started.chat, actor=Actor.customer("zoe@example.org"))
    assert OutboundMessage.objects.filter(kind="chat_transcript").count() == TRANSCRIPTS_PER_CHAT
