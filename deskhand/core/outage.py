"""A service Deskhand depends on is out for a moment (the database restarting, Redis gone, every
pooled connection busy): the request cannot be answered now, and trying again shortly will do.
Such a failure is a 503 with a Retry-After, not a 500 that reads like a bug."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError

RETRY_AFTER_SECONDS = 5


def _kinds() -> tuple[type[BaseException], ...]:
    kinds: list[type[BaseException]] = [OperationalError, InterfaceError]
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        kinds += [RedisConnectionError, RedisTimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    try:
        from psycopg import OperationalError as PsycopgOperationalError
        from psycopg_pool import PoolTimeout

        kinds += [PoolTimeout, PsycopgOperationalError]
    except ImportError:  # pragma: no cover - psycopg[pool] is a dependency
        pass
    try:  # attachments in object storage (DESKHAND_STORAGE_URL) out of reach
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

        kinds += [BotoConnectionError, ConnectTimeoutError, ReadTimeoutError]
    except ImportError:  # pragma: no cover - django-storages[s3] is a dependency
        pass
    return tuple(kinds)


OUTAGES = _kinds()


def is_outage(exc: BaseException | None) -> bool:
    """Whether `exc`, or what caused it, is a dependency out of reach."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OUTAGES):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def current_outage() -> bool:
    """Inside an `except` block (Django's 500 handler runs in one): is the exception an outage?"""
    return is_outage(sys.exc_info()[1])
