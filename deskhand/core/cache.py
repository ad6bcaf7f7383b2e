"""The shared cache in Redis, forgiving: Deskhand caches only what it can compute again (report
figures, list counts), so while Redis restarts a read is a miss and a write is dropped, instead of
every page that uses the cache failing with it."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger("deskhand.cache")


class ForgivingRedisCache(RedisCache):
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            log.warning("cache unavailable, computing instead: %s", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            log.warning("cache unavailable, computing instead: %s", exc)
            return {}

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            log.warning("cache unavailable, not kept: %s", exc)

    def set_many(self, data: dict[Any, Any], timeout: Any = None, version: int | None = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except RedisError as exc:
            log.warning("cache unavailable, not kept: %s", exc)
            return list(data)

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except RedisError as exc:
            log.warning("cache unavailable, not deleted: %s", exc)
            return False

    def clear(self) -> None:
        """Only this cache's keys: Redis's FLUSHDB would take the task queue with it when the
        tasks and the cache share a database."""
        try:
            client = self._cache.get_client(write=True)
            pattern = f"{self.key_prefix}:*" if self.key_prefix else "*"
            for batch in _chunks(client.scan_iter(match=pattern, count=500), 500):
                client.delete(*batch)
        except RedisError as exc:
            log.warning("cache unavailable, not cleared: %s", exc)


def _chunks(keys: Any, size: int) -> Any:
    batch: list[Any] = []
    for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
