"""The broker in Redis mode (`DESKHAND_REDIS_URL`): a wake-up published by another process reaches an
event stream here at once, and a Redis that cannot be reached changes nothing a visitor notices (the
stream still delivers, from the database, by polling; no 500)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client

from deskhand.chat import broker, services
from deskhand.chat.inputs import ChatStart
from deskhand.chat.models import Chat, ChatMessage
from deskhand.chat.services import post_customer_message, start_chat
from deskhand.chat.stream import chat_events, close_readers

REDIS = os.environ.get("DESKHAND_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
T = TypeVar("T")
UNREACHABLE = "redis://127.0.0.1:1/15"  # nothing listens on port 1: connections are refused at once

PUBLISH = """
import django
django.setup()
from deskhand.chat.broker import chat_topic, publish
publish([chat_topic({chat_id})])
"""


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason=f"no Redis at {REDIS}")


@pytest.fixture(autouse=True)
def readers_closed() -> Iterator[None]:
    yield
    close_readers()  # the stream's kept connections: PostgreSQL drops the test database only without them


@pytest.fixture
def redis_url(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Redis mode for this test: a fresh publishing client, and no subscription left behind."""
    settings.REDIS_URL = REDIS
    monkeypatch.setattr(broker, "_redis_client", None)
    monkeypatch.setattr(broker, "_listeners", {})
    yield REDIS


def _start(email: str = "zoe@example.org") -> tuple[Chat, int]:
    started = start_chat(ChatStart(message="Hello?", client="10.0.0.9", email=email, name="Zoe", language="en"))
    last = started.chat.messages.order_by("-id").values_list("id", flat=True).first()
    assert last is not None
    return started.chat, last


async def _in_thread(write: Callable[..., T], *args: Any) -> T:
    """`write` on a thread of its own, as a web process's request does it (and its connection closed)."""
    def run() -> T:
        try:
            return write(*args)
        finally:
            connection.close()

    return await sync_to_async(run, thread_sensitive=False)()


def _post(chat_id: int, body: str) -> ChatMessage:
    return post_customer_message(Chat.objects.get(pk=chat_id), body=body)


def _post_silently(chat_id: int, body: str) -> ChatMessage:
    """A message written the way another process writes it: in the database, with no wake-up here."""
    publish = services.publish
    services.publish = lambda topics: None  # type: ignore[assignment]
    try:
        return post_customer_message(Chat.objects.get(pk=chat_id), body=body)
    finally:
        services.publish = publish


async def _subscribed(baseline: int, timeout: float = 5.0) -> None:
    """Until this process's pattern subscription is in place (Redis counts it)."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS)
    try:
        deadline = time.monotonic() + timeout
        while await client.pubsub_numpat() <= baseline and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()


async def _numpat() -> int:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS)
    try:
        return int(await client.pubsub_numpat())
    finally:
        await client.aclose()


class Reader:
    """Collects a stream's frames in a task; `until(text)` waits for a frame containing `text`."""

    def __init__(self, chat_id: int, *, after: int, poll: float) -> None:
        self.frames: list[str] = []
        self.arrived: dict[str, float] = {}
        self.task = asyncio.create_task(self._read(chat_id, after, poll))

    async def _read(self, chat_id: int, after: int, poll: float) -> None:
        async for chunk in chat_events(chat_id, after=after, poll=poll):
            self.frames.append(chunk.decode())

    async def until(self, text: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while not any(text in frame for frame in self.frames):
            assert not self.task.done(), f"the stream ended: {self.frames}"
            assert time.monotonic() < deadline, f"{text!r} did not arrive within {timeout} s: {self.frames}"
            await asyncio.sleep(0.01)
        return time.monotonic()

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@needs_redis
def test_a_wake_up_published_by_another_process_reaches_a_stream_here(transactional_db: Any, redis_url: str) -> None:
    chat, last = _start()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "deskhand.settings", "DESKHAND_REDIS_URL": redis_url,
           "DESKHAND_DATA_DIR": os.environ.get("DESKHAND_DATA_DIR", "/tmp/chat-data")}

    async def scenario() -> tuple[float, float]:
        baseline = await _numpat()
        # A stream that on its own would look again only after 30 s: anything sooner is the broker.
        reader = Reader(chat.pk, after=last, poll=30.0)
        try:
            await reader.until('"status":"waiting"', 10)
            await _subscribed(baseline)
            await _in_thread(_post_silently, chat.pk, "Written elsewhere")
            await asyncio.sleep(0.3)
            assert not any("Written elsewhere" in frame for frame in reader.frames), "woken without a publish"
            process = await asyncio.create_subprocess_exec(sys.executable, "-c", PUBLISH.format(chat_id=chat.pk),
                                                           env=env)
            assert await asyncio.wait_for(process.wait(), 60) == 0
            published = time.monotonic()
            arrived = await reader.until("Written elsewhere", 5)
            return published, arrived
        finally:
            await reader.close()

    published, arrived = asyncio.run(scenario())
    assert arrived - published < 2.0


@needs_redis
def test_in_redis_mode_a_post_here_wakes_the_stream_through_redis(transactional_db: Any, redis_url: str) -> None:
    chat, last = _start()
    heard: list[str] = []

    async def scenario() -> None:
        import redis.asyncio as aioredis

        spy = aioredis.Redis.from_url(redis_url)
        pubsub = spy.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(broker.CHANNEL_PREFIX + broker.chat_topic(chat.pk))
        baseline = await _numpat()
        reader = Reader(chat.pk, after=last, poll=30.0)
        try:
            await reader.until('"status":"waiting"', 10)
            await _subscribed(baseline)
            await _in_thread(_post, chat.pk, "Anyone?")
            await reader.until("Anyone?", 5)
            deadline = time.monotonic() + 2
            while not heard and time.monotonic() < deadline:  # the first read takes the subscription's reply
                message = await pubsub.get_message(timeout=0.5)
                if message is not None:
                    heard.append(message["channel"].decode())
        finally:
            await reader.close()
            await pubsub.aclose()
            await spy.aclose()

    asyncio.run(scenario())
    assert heard == [f"deskhand:chat:chat:{chat.pk}"]


def test_an_unreachable_redis_costs_no_message_and_no_error(transactional_db: Any, settings: Any,
                                                            monkeypatch: pytest.MonkeyPatch, client: Client,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    settings.REDIS_URL = UNREACHABLE
    monkeypatch.setattr(broker, "_redis_client", None)
    monkeypatch.setattr(broker, "_listeners", {})
    caplog.set_level(logging.WARNING, logger="deskhand.chat")

    # The visitor's requests: answered as ever, though every wake-up fails to reach Redis.
    response = client.post("/widget/chats", {"email": "zoe@example.org", "name": "Zoe", "message": "Hello?",
                                             "language": "en"}, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    posted = client.post(f"/widget/chats/{data['id']}/messages", {"body": "Still there?"},
                         content_type="application/json", HTTP_X_CHAT_TOKEN=data["token"])
    assert posted.status_code == 201
    assert "could not publish to Redis" in caplog.text

    async def scenario() -> list[str]:
        reader = Reader(data["id"], after=0, poll=0.3)
        try:
            await reader.until("Still there?", 10)
            # This process's own writes still wake it (the broker falls back to its own waiters) …
            await _in_thread(_post, data["id"], "Here?")
            await reader.until("Here?", 5)
            # … and one from elsewhere is read from the database at the next look.
            await _in_thread(_post_silently, data["id"], "From another process")
            await reader.until("From another process", 5)
            return reader.frames
        finally:
            await reader.close()

    frames = asyncio.run(scenario())
    text = "".join(frames)
    assert text.index("Hello?") < text.index("Still there?") < text.index("Here?") < text.index("From another process")
    assert "Redis subscription lost" in caplog.text
