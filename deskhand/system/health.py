"""What /healthz and /metrics read: the database, the task queue and attachment storage, each
answered within a second or two, never with an error's text (both pages are public or nearly)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.files.storage import storages
from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone

log = logging.getLogger("deskhand.health")


@dataclass(frozen=True)
class Check:
    ok: bool
    backend: str
    ms: float


@dataclass(frozen=True)
class QueueState:
    depth: int
    oldest_seconds: float


def _timed(backend: str, probe: object) -> Check:
    started = time.perf_counter()
    try:
        probe()  # type: ignore[operator]
    except Exception as exc:  # noqa: BLE001 - any failure is "not ok"; the kind goes to the log only
        log.warning("health: %s check failed: %s", backend, type(exc).__name__)
        return Check(False, backend, round((time.perf_counter() - started) * 1000, 1))
    return Check(True, backend, round((time.perf_counter() - started) * 1000, 1))


def check_database() -> Check:
    def probe() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return _timed(settings.DATABASE_VENDOR, probe)


def check_queue() -> Check:
    return _timed(settings.TASKS_VENDOR, queue_state)


def check_storage() -> Check:
    storage = storages["attachments"]
    backend = "filesystem" if type(storage).__name__ == "FileSystemStorage" else "s3"
    # A name that is never written: a round trip to the bucket (or the directory) and nothing kept.
    return _timed(backend, lambda: storage.exists(".deskhand-health-probe"))


def queue_state() -> QueueState:
    """Tasks waiting to run, and how long the oldest has waited."""
    now = timezone.now()
    if settings.TASKS_VENDOR == "redis":
        import django_rq

        queue = django_rq.get_queue(settings.TASKS["default"].get("QUEUES", ["default"])[0])
        depth = queue.count
        first = queue.get_jobs(0, 0)
        enqueued = first[0].enqueued_at if first else None
        if enqueued is not None and enqueued.tzinfo is None:
            enqueued = enqueued.replace(tzinfo=UTC)
        return QueueState(depth, _age(now, enqueued))
    from django_tasks_db.models import DBTaskResult

    ready = DBTaskResult.objects.ready().aggregate(depth=Count("id"), oldest=Min("enqueued_at"))
    return QueueState(ready["depth"], _age(now, ready["oldest"]))


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since else 0.0
