"""Many processes asking for the lease at the same moment: exactly one gets it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections

from deskhand.system.lease import hold, holder_name
from deskhand.system.models import Lease

pytestmark = pytest.mark.django_db(transaction=True)


def test_of_eight_contenders_at_once_exactly_one_holds_the_lease() -> None:
    start = threading.Barrier(8)
    won: list[str] = []

    def contend() -> None:
        me = holder_name()
        start.wait()
        try:
            if hold("scheduler", holder=me, ttl=timedelta(seconds=30)):
                won.append(me)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1
    assert Lease.objects.get(name="scheduler").holder == won[0]
