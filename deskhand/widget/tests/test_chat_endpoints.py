"""The widget's chat protocol (deskhand/widget/chat.py) as the widget script speaks it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.test import Client

from deskhand.agents.models import Agent
from deskhand.chat.models import Chat, ChatStatus
from deskhand.chat.services import CHATS_PER_HOUR, accept_chat, post_agent_message
from deskhand.chat.stream import chat_events
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.mail.models import OutboundMessage


def _start(client: Client, **values: Any) -> Any:
    body = {"email": "zoe@example.org", "name": "Zoe", "message": "Hello?", "language": "en",
            "page_url": "https://shop.example.org/cart", **values}
    return client.post("/widget/chats", json.dumps(body), content_type="application/json")


def test_availability_says_open_in_the_asked_language(db: Any, client: Client) -> None:
    answer = client.get("/widget/chat/availability?lang=en").json()
    assert answer["open"] is True and answer["message"]
    update_settings({"chat_enabled": False}, actor=SYSTEM)
    assert client.get("/widget/chat/availability?lang=en").json()["open"] is False


def test_start_post_end_and_transcript(db: Any, client: Client) -> None:
    started = _start(client)
    assert started.status_code == 201, started.content
    data = started.json()
    assert data["status"] == "waiting" and data["ticket"] is None and data["token"]
    headers = {"HTTP_X_CHAT_TOKEN": data["token"]}
    posted = client.post(f"/widget/chats/{data['id']}/messages", json.dumps({"body": "Anyone?"}),
                         content_type="application/json", **headers)
    assert posted.status_code == 201 and posted.json()["id"]
    assert client.post(f"/widget/chats/{data['id']}/end", **headers).status_code == 202
    again = client.post(f"/widget/chats/{data['id']}/messages", json.dumps({"body": "Hello?"}),
                        content_type="application/json", **headers)
    assert again.status_code == 409 and again.json()["field"] == "body"
    sent = client.post(f"/widget/chats/{data['id']}/transcript", json.dumps({}), content_type="application/json",
                       **headers)
    assert sent.status_code == 202 and sent.json()["email"] == "zoe@example.org"
    assert OutboundMessage.objects.filter(kind="chat_transcript", to=["zoe@example.org"]).exists()


def test_wrong_or_missing_token_and_unknown_chat(db: Any, client: Client) -> None:
    data = _start(client).json()
    url = f"/widget/chats/{data['id']}/messages"
    body = json.dumps({"body": "x"})
    assert client.post(url, body, content_type="application/json").status_code == 403
    assert client.post(url, body, content_type="application/json", HTTP_X_CHAT_TOKEN="nope").status_code == 403
    assert client.post("/widget/chats/999999/messages", body, content_type="application/json",
                       HTTP_X_CHAT_TOKEN=data["token"]).status_code == 404
    assert client.get(f"/widget/chats/{data['id']}/events?token=nope").status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "nope"}, "email"), ({"message": ""}, "message"), ({"message": "y" * 2001}, "message"),
    ({"email": 5}, "email"), ({"name": ["x"]}, "name"),
])
def test_bad_input_is_422_with_the_field(db: Any, client: Client, body: dict[str, Any], field: str) -> None:
    answer = _start(client, **body)
    assert answer.status_code == 422 and answer.json()["field"] == field
    assert not Chat.objects.exists()


def test_not_json_is_422(db: Any, client: Client) -> None:
    answer = client.post("/widget/chats", "{nope", content_type="application/json")
    assert answer.status_code == 422


def test_too_many_chats_is_429(db: Any, client: Client) -> None:
    for number in range(CHATS_PER_HOUR):
        assert _start(client, email=f"v{number}@example.org").status_code == 201
    answer = _start(client, email="late@example.org")
    assert answer.status_code == 429 and answer.json()["detail"]


def test_closed_chat_leaves_the_message_as_a_ticket(db: Any, client: Client) -> None:
    update_settings({"chat_enabled": False}, actor=SYSTEM)
    data = _start(client).json()
    assert data["status"] == "ticket" and data["ticket"].startswith("#")


async def _frames(chat_id: int, *, after: int, until: str, limit: float = 10.0) -> list[str]:
    frames: list[str] = []

    async def read() -> None:
        async for chunk in chat_events(chat_id, after=after, poll=0.2):
            frames.append(chunk.decode())
            if until in chunk.decode():
                return

    await asyncio.wait_for(read(), limit)
    return frames


def test_the_stream_sends_messages_after_the_given_id_and_the_status(transactional_db: Any, client: Client,
                                                                        agent: Agent) -> None:
    data = _start(client).json()
    chat = Chat.objects.get(pk=data["id"])
    first = chat.messages.get()
    accept_chat(chat, agent=agent, actor=Actor.agent(agent))
    reply = post_agent_message(chat, body="Hi Zoe, Ana here.", agent=agent, actor=Actor.agent(agent))
    frames = asyncio.run(_frames(chat.pk, after=first.pk, until="Ana here"))
    text = "".join(frames)
    assert "Hello?" not in text  # after the given id only
    assert f"id: {reply.pk}\nevent: message\n" in text and '"author":"agent"' in text
    assert '"status":"active"' in "".join(asyncio.run(_frames(chat.pk, after=reply.pk, until="status")))


def test_the_stream_of_an_ended_chat_closes(transactional_db: Any, client: Client) -> None:
    data = _start(client).json()
    client.post(f"/widget/chats/{data['id']}/end", HTTP_X_CHAT_TOKEN=data["token"])
    frames = asyncio.run(_frames(data["id"], after=0, until="never appears"))  # returns: the stream ended
    assert '"status":"ended"' in "".join(frames)
    assert Chat.objects.get(pk=data["id"]).status == ChatStatus.ENDED


@pytest.mark.parametrize("after", [{"QUERY_STRING": "after=%C2%B2"}, {"HTTP_LAST_EVENT_ID": "²"},
                                   {"HTTP_LAST_EVENT_ID": "١٢"}])
def test_a_stream_resumed_after_a_non_ascii_number_starts_at_the_beginning(transactional_db: Any, client: Client,
                                                                             after: dict[str, str]) -> None:
    # "²".isdigit() is true and int("²") raises: the stream answered 500 to such an id.
    data = _start(client).json()
    client.post(f"/widget/chats/{data['id']}/end", HTTP_X_CHAT_TOKEN=data["token"])
    query = after.pop("QUERY_STRING", "")
    answer = client.get(f"/widget/chats/{data['id']}/events?token={data['token']}&{query}", **after)
    assert answer.status_code == 200
    assert "Hello?" in b"".join(answer.streaming_content).decode()  # type: ignore[arg-type]
    answer.close()


def test_the_transcript_goes_only_to_the_chats_own_address(db: Any, client: Client) -> None:
    # A visitor's token proves only that they started the chat: mailing its text (which they typed)
    # to an address they name would make the help desk a mail relay.
    data = _start(client, message="Buy cheap watches at spam.example").json()
    sent = client.post(f"/widget/chats/{data['id']}/transcript", json.dumps({"email": "victim@example.com"}),
                       content_type="application/json", HTTP_X_CHAT_TOKEN=data["token"])
    assert sent.status_code == 202 and sent.json()["email"] == "zoe@example.org"
    assert [mail.to for mail in OutboundMessage.objects.filter(kind="chat_transcript")] == [["zoe@example.org"]]
