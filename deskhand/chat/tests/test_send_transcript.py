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


def test_transcripts_to_one_address_are_capped_a_day_over_all_chats(db: object) -> None:
    # Anyone can start chats with someone else's address and have the text they typed mailed there:
    # 5 chats an hour × 3 transcripts each, every hour, from the help desk's own domain.
    from deskhand.chat.inputs import ChatStart
    from deskhand.chat.services import TRANSCRIPTS_PER_ADDRESS, start_chat

    chats = [start_chat(ChatStart(message="Cheap watches", client=f"10.0.0.{n}", email="victim@example.org")).chat
             for n in range(2)]
    for number in range(TRANSCRIPTS_PER_ADDRESS):
        send_transcript(chats[number // TRANSCRIPTS_PER_CHAT], actor=Actor.customer("victim@example.org"))
    with pytest.raises(TooMany):
        send_transcript(chats[1], actor=Actor.customer("victim@example.org"))
    assert OutboundMessage.objects.filter(kind="chat_transcript").count() == TRANSCRIPTS_PER_ADDRESS
