"""The shared cache in Redis (DESKHAND_REDIS_URL or DESKHAND_TASKS_URL): a Redis that does not
answer is a miss, never an error on the page; clearing it leaves the task queue's keys alone."""

from __future__ import annotations

import os

import pytest
import redis

from deskhand.core.cache import ForgivingRedisCache

REDIS = os.environ.get("DESKHAND_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _cache(location: str) -> ForgivingRedisCache:
    return ForgivingRedisCache(location, {"KEY_PREFIX": f"deskhand-test-{os.getpid()}",
                                          "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1}})


def test_a_redis_that_does_not_answer_is_a_miss_and_a_dropped_write() -> None:
    cache = _cache("redis://127.0.0.1:1/0")
    cache.set("report", {"tickets": 3}, 60)
    assert cache.get("report", "computed") == "computed"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set_many({"a": 1}) == ["a"]
    assert cache.delete("report") is False
    cache.clear()


@pytest.mark.skipif(not _redis_up(), reason=f"no Redis at {REDIS}")
def test_clearing_the_cache_keeps_the_other_keys_of_its_database() -> None:
    client = redis.Redis.from_url(REDIS)
    queue_key = f"rq:queue:test-{os.getpid()}"
    client.rpush(queue_key, "job")
    cache = _cache(REDIS)
    try:
        cache.set_many({f"count-{n}": n for n in range(1200)}, 60)
        assert cache.get("count-7") == 7
        cache.clear()
        assert cache.get("count-7") is None
        assert client.lrange(queue_key, 0, -1) == [b"job"]
    finally:
        client.delete(queue_key)
