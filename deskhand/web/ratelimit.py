"""Failed sign-ins per address and per client, counted in the cache for a window of minutes."""

from __future__ import annotations

from django.core.cache import cache

MAX_FAILURES = 8
WINDOW_SECONDS = 15 * 60


def _keys(email: str, client: str) -> list[str]:
    return [f"signin-fail:email:{email.strip().lower()[:254]}", f"signin-fail:client:{client}"]


def blocked(email: str, client: str) -> bool:
    return any((cache.get(key) or 0) >= MAX_FAILURES for key in _keys(email, client))


def record_failure(email: str, client: str) -> None:
    for key in _keys(email, client):
        cache.add(key, 0, WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW_SECONDS)


def clear(email: str, client: str) -> None:
    cache.delete_many(_keys(email, client))
