"""The chat's wake-up calls. The database is the truth; the broker only tells waiting event
streams "look again". In one process (the embedded default) a publish sets the waiters' events
directly; with `REDIS_URL` set, a publish goes through Redis pub/sub and each web process keeps one
subscription (per event loop) that wakes its own waiters, so a message written by any process
reaches every stream. Streams also look every few seconds on their own (`stream.POLL_SECONDS`),
so a lost wake-up (Redis restarting, the worker's sweep in another process) only delays.

Topics: `chat:<id>` (a chat's messages and status) and `queue` (the waiting list changed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable
from typing import Any

from django.conf import settings

log = logging.getLogger("deskhand.chat")

CHANNEL_PREFIX = "deskhand:chat:"
QUEUE = "queue"


def chat_topic(chat_id: int) -> str:
    return f"chat:{chat_id}"


class Hub:
    """This process's waiters, by topic. `wake` may be called from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def wake(self, topic: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(topic, ()))
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # a loop closed meanwhile
                loop.call_soon_threadsafe(event.set)

    def add(self, topics: Iterable[str], entry: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            for topic in topics:
                self._waiters.setdefault(topic, set()).add(entry)

    def remove(self, topics: Iterable[str], entry: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            for topic in topics:
                waiters = self._waiters.get(topic)
                if waiters is not None:
                    waiters.discard(entry)
                    if not waiters:
                        del self._waiters[topic]

    def count(self) -> int:
        with self._lock:
            return sum(len(waiters) for waiters in self._waiters.values())


hub = Hub()


class Listener:
    """An event stream's subscription: `wait()` returns when one of its topics was published, or
    after `timeout` seconds. Created per stream, on the stream's event loop."""

    def __init__(self, topics: Iterable[str]) -> None:
        self.topics = tuple(topics)
        self.event = asyncio.Event()
        self.entry = (asyncio.get_running_loop(), self.event)
        hub.add(self.topics, self.entry)
        if settings.REDIS_URL:
            _ensure_redis_listener(settings.REDIS_URL)

    async def wait(self, timeout: float) -> bool:
        """True when woken, False on the timeout."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            return False
        self.event.clear()
        return True

    def close(self) -> None:
        hub.remove(self.topics, self.entry)


# --- publishing (from synchronous code, after commit) ---------------------------------------

_redis_lock = threading.Lock()
_redis_client: Any = None


def _sync_redis(url: str) -> Any:
    global _redis_client
    with _redis_lock:
        if _redis_client is None:
            import redis

            _redis_client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return _redis_client


def publish(topics: Iterable[str]) -> None:
    """Wake the streams listening to `topics`, in this process or (with Redis) in every one. A
    broker that is down is logged, never raised: the streams' own polling catches up."""
    topics = list(topics)
    url = settings.REDIS_URL
    if not url:
        for topic in topics:
            hub.wake(topic)
        return
    try:
        client = _sync_redis(url)
        with client.pipeline(transaction=False) as pipe:
            for topic in topics:
                pipe.publish(CHANNEL_PREFIX + topic, b"1")
            pipe.execute()
    except Exception:  # noqa: BLE001 - a wake-up is a hint; the streams poll anyway
        log.warning("chat: could not publish to Redis; streams will catch up by polling", exc_info=True)
        for topic in topics:  # at least this process's streams hear it now
            hub.wake(topic)


# --- one Redis subscription per event loop --------------------------------------------------

_listeners: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}


def _ensure_redis_listener(url: str) -> None:
    loop = asyncio.get_running_loop()
    task = _listeners.get(loop)
    if task is None or task.done():
        _listeners[loop] = loop.create_task(_listen(url), name="chat-redis-listener")


async def _listen(url: str) -> None:
    import redis.asyncio as aioredis

    while True:
        client = aioredis.Redis.from_url(url)
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            await pubsub.psubscribe(CHANNEL_PREFIX + "*")
            async for message in pubsub.listen():
                channel = message.get("channel", b"")
                topic = (channel.decode() if isinstance(channel, bytes) else str(channel)).removeprefix(CHANNEL_PREFIX)
                hub.wake(topic)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - Redis away: streams poll meanwhile; try again shortly
            log.warning("chat: Redis subscription lost; retrying", exc_info=True)
            await asyncio.sleep(1.0)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()
