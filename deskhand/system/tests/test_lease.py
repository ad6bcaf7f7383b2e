"""The scheduler's lease: one holder at a time across processes and hosts, handed over on expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deskhand.system.lease import hold, holder_name, release
from deskhand.system.models import Lease
from deskhand.system.scheduler import LEASE, leased_tick

pytestmark = pytest.mark.django_db
TTL = timedelta(seconds=30)


def test_the_first_process_takes_the_lease_and_a_second_stands_by() -> None:
    first, second = holder_name(), holder_name()
    assert first != second
    assert hold("scheduler", holder=first, ttl=TTL)
    assert not hold("scheduler", holder=second, ttl=TTL)
    assert hold("scheduler", holder=first, ttl=TTL)  # renewing
    lease = Lease.objects.get(name="scheduler")
    assert lease.holder == first and lease.acquired == 1


def test_a_holder_that_stops_renewing_is_replaced_once_the_lease_expires() -> None:
    dead, alive = holder_name(), holder_name()
    assert hold("scheduler", holder=dead, ttl=TTL)
    Lease.objects.filter(name="scheduler").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert hold("scheduler", holder=alive, ttl=TTL)
    assert not hold("scheduler", holder=dead, ttl=TTL)  # the old holder, back, does not take it back
    assert Lease.objects.get(name="scheduler").acquired == 2


def test_a_released_lease_is_free_at_once() -> None:
    leaving, next_one = holder_name(), holder_name()
    assert hold("scheduler", holder=leaving, ttl=TTL)
    release("scheduler", holder=leaving)
    assert hold("scheduler", holder=next_one, ttl=TTL)


def test_leases_of_different_names_do_not_meet() -> None:
    one = holder_name()
    assert hold("scheduler", holder=one, ttl=TTL)
    assert hold("other", holder=holder_name(), ttl=TTL)


def test_two_schedulers_run_one_round_per_period_between_them() -> None:
    first, second = holder_name(), holder_name()
    ran = [leased_tick(first), leased_tick(second), leased_tick(first), leased_tick(second)]
    assert ran == [True, False, True, False]
    assert Lease.objects.get(name=LEASE).rounds == 2
