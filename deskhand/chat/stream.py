"""Server-sent events of a chat and of the agents' queue, as async generators for async views.

A stream holds no thread while it waits: it awaits the broker's wake-up (or `POLL_SECONDS`, so a
message written by another process is seen anyway), then reads what is new from the database on a
small shared pool of threads (`READERS`, each with its own kept connection), sends it and waits
again. The `id:` of a message event is the message's id: a reconnecting browser sends it back as
`Last-Event-ID` and the stream goes on after it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import Error as DatabaseError
from django.db import connection
from django.http import HttpRequest, StreamingHttpResponse

from deskhand.chat.broker import QUEUE, Listener, chat_topic
from deskhand.chat.models import ChatStatus
from deskhand.chat.queries import MAX_READ, queue_counts, read_after

# The broker wakes a stream at once for what this process (or, with Redis, any process) writes; the
# look at the database every POLL_SECONDS (spread ±25 % so that streams opened together do not read
# together) only catches a write the broker could not announce (the worker's sweep without Redis).
# At 3 s, 400 open streams read 133 times a second: half of a 200-chat server's CPU.
POLL_SECONDS = 10.0
KEEPALIVE_SECONDS = 15.0
MAX_SECONDS = 3600.0  # a stream ends after an hour; the browser reconnects where it left off
RETRY_MS = 2000
STREAMS_PER_CHAT = 4  # tabs of one visitor (or agents) on one chat, per process
STREAMS_PER_CLIENT = 20  # streams from one network address, per process
READERS = 4
FINAL = (ChatStatus.ENDED, ChatStatus.TICKET)

T = TypeVar("T")
_pool = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="chat-read")


def _with_retry(read: Callable[..., T], *args: Any) -> T:
    try:
        return read(*args)
    except DatabaseError:
        # A kept connection the server closed (a restart, an idle timeout): once more, anew.
        connection.close()
        return read(*args)


async def _read(read: Callable[..., T], *args: Any) -> T:
    return await sync_to_async(_with_retry, thread_sensitive=False, executor=_pool)(read, *args)


def close_readers(timeout: float = 5.0) -> None:
    """Close the database connections the read pool's threads keep (at a test's end, so that its
    database can be dropped). Each thread closes its own, then waits for the others: so every
    thread of the pool gets one of the calls."""
    barrier = threading.Barrier(READERS, timeout=timeout)

    def close() -> None:
        connection.close()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()

    for future in [_pool.submit(close) for _ in range(READERS)]:
        future.result()


def frame(event: str, data: dict[str, Any], *, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


class Slots:
    """How many streams each key holds in this process (a chat, a network address)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}

    def take(self, keys: dict[str, int]) -> Callable[[], None] | None:
        """Hold one slot of each key (key → its limit); None when one is full. The returned
        function gives them back (once, however often it is called)."""
        with self._lock:
            if any(self._held.get(key, 0) >= limit for key, limit in keys.items()):
                return None
            for key in keys:
                self._held[key] = self._held.get(key, 0) + 1
        given = False

        def give_back() -> None:
            nonlocal given
            with self._lock:
                if given:
                    return
                given = True
                for key in keys:
                    self._held[key] -= 1
                    if not self._held[key]:
                        del self._held[key]

        return give_back

    def held(self) -> int:
        with self._lock:
            return sum(self._held.values())


slots = Slots()


async def chat_events(chat_id: int, *, after: int, release: Callable[[], None] = lambda: None,
                      poll: float = POLL_SECONDS) -> AsyncIterator[bytes]:
    """A chat's messages after id `after` and its status, as they come; ends with the chat."""
    listener = Listener([chat_topic(chat_id)])
    started = time.monotonic()
    quiet = 0.0
    state: dict[str, Any] | None = None
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        while True:
            messages, now_state = await _read(read_after, chat_id, after)
            for message in messages:
                yield frame("message", message, event_id=message["id"])
                after = message["id"]
            if now_state is None:
                return
            if now_state != state:
                state = now_state
                yield frame("status", state)
            if state["status"] in FINAL and not messages:
                return
            if len(messages) >= MAX_READ:
                continue  # a long backlog: read on at once
            if time.monotonic() - started > MAX_SECONDS:
                return
            waited = poll * random.uniform(0.75, 1.25)
            woken = await listener.wait(waited)
            quiet = 0.0 if woken else quiet + waited
            if quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield b": keep-alive\n\n"
    finally:
        listener.close()
        release()


async def queue_events(agent_id: int, *, release: Callable[[], None] = lambda: None,
                       poll: float = POLL_SECONDS * 2) -> AsyncIterator[bytes]:
    """The agents' badge: how many chats wait and how many the agent has, whenever that changes."""
    listener = Listener([QUEUE])
    started = time.monotonic()
    quiet = 0.0
    last: dict[str, int] | None = None
    try:
        yield f"retry: {RETRY_MS * 2}\n\n".encode()
        while time.monotonic() - started < MAX_SECONDS:
            counts = await _read(queue_counts, agent_id)
            if counts != last:
                last = counts
                yield frame("queue", counts)
            woken = await listener.wait(poll)
            quiet = 0.0 if woken else quiet + poll
            if quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield b": keep-alive\n\n"
    finally:
        listener.close()
        release()


def sse_after(value: str | None) -> int:
    """`Last-Event-ID` or `?after=`: a message id, 0 when absent or not a number (ASCII digits
    only: `"²".isdigit()` is true and `int("²")` raises)."""
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0


def blocking(events: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The same stream for a WSGI server (the tests' live server), which would otherwise read an
    asynchronous stream to its end before sending any of it: run on an event loop of this thread."""
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(events.__anext__())
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(events.aclose())  # type: ignore[attr-defined]
        loop.close()


def sse_response(events: AsyncIterator[bytes], release: Callable[[], None], *,
                 request: HttpRequest) -> StreamingHttpResponse:
    """`events` as a `text/event-stream` response; `release` gives the stream's slots back even
    when the client leaves before the stream started (Django closes the response then)."""
    content: AsyncIterator[bytes] | Iterator[bytes] = events if isinstance(request, ASGIRequest) else blocking(events)
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # a proxy in front must pass events on at once
    response._resource_closers.append(release)  # type: ignore[attr-defined]
    return response
