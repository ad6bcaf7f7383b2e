"""Tasks in Redis (DESKHAND_TASKS_URL): `deskhand worker` runs them on RQ, the scheduler's round
moves deferred ones (outbound retries) to their queue, and /healthz reads the queue's depth."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.test import Client
from django.utils import timezone

from deskhand.core.actors import SYSTEM
from deskhand.ingest.receive import receive_raw
from deskhand.ingest.tasks import process_inbound
from deskhand.mail.models import InboundEmail, InboundStatus
from deskhand.mail.services import create_mailbox
from deskhand.mail.tests.mails import make_mail
from deskhand.system.worker import TaskWorker

REDIS = os.environ.get("DESKHAND_TEST_RQ_URL", "redis://127.0.0.1:6379/14")


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = [pytest.mark.skipif(not _redis_up(), reason=f"no Redis at {REDIS}"),
              pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rq_tasks(settings: Any) -> Iterator[str]:
    """The `default` queue in a Redis database of the tests' own, empty."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": REDIS}}
    settings.TASKS_VENDOR = "redis"
    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    yield "default"
    client.flushdb()


def test_a_task_in_redis_runs_on_the_worker_and_the_worker_stops_when_told(rq_tasks: str) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    row = receive_raw(make_mail(subject="Printer on fire"), transport="http", process=False)
    process_inbound.enqueue(inbound_id=row.pk)
    worker = TaskWorker()
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while InboundEmail.objects.get(pk=row.pk).status != InboundStatus.PROCESSED:
            assert time.monotonic() < deadline, "the RQ worker did not run the task"
            time.sleep(0.1)
    finally:
        worker.halt()
        thread.join(10)
    assert not thread.is_alive()


def test_the_schedulers_round_moves_deferred_tasks_to_their_queue(rq_tasks: str) -> None:
    import django_rq

    from deskhand.system.scheduler import enqueue_deferred_jobs

    process_inbound.using(run_after=timezone.now() - timedelta(seconds=1)).enqueue(inbound_id=1)
    queue = django_rq.get_queue(rq_tasks)
    assert queue.count == 0
    enqueue_deferred_jobs()
    assert queue.count == 1


def test_healthz_reads_the_redis_queue(rq_tasks: str) -> None:
    process_inbound.enqueue(inbound_id=1)
    queue = Client().get("/healthz").json()["checks"]["queue"]
    assert queue["ok"] is True and queue["backend"] == "redis"
