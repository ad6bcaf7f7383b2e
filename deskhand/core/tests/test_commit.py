"""after_commit: a side effect that fails after the commit is logged; the committed write stands
and its caller goes on (a mail stored is answered 250 even when Redis is down)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from redis.exceptions import ConnectionError as RedisConnectionError

from deskhand.core.commit import after_commit

pytestmark = pytest.mark.django_db(transaction=True)


def _queue_down(*args: Any, **kwargs: Any) -> None:
    raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_failing_side_effect_is_logged_and_the_write_stands(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[int] = []
    with transaction.atomic():
        Group.objects.create(name="Acme")
        after_commit(_queue_down, 1, kind="mail")
        after_commit(ran.append, 2)  # the next one still runs
        assert ran == []  # not before the commit
    assert Group.objects.filter(name="Acme").exists()
    assert ran == [2]
    assert "after commit: _queue_down failed" in caplog.text and "Connection refused" in caplog.text


def test_a_rolled_back_transaction_runs_nothing() -> None:
    ran: list[int] = []
    with pytest.raises(ValueError), transaction.atomic():
        after_commit(ran.append, 1)
        raise ValueError("rolled back")
    assert ran == []


def test_outside_a_transaction_it_runs_at_once() -> None:
    ran: list[int] = []
    after_commit(ran.append, 1)
    after_commit(_queue_down)
    assert ran == [1]
