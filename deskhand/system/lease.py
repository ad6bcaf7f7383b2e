"""Leases: a role (the scheduler) held by one process at a time, across hosts, through one row
of the shared database. The holder renews before each round; a holder that dies stops renewing
and another process takes over once the lease has expired.

Taking or renewing is one conditional UPDATE, atomic on PostgreSQL and SQLite alike: it succeeds
only for the current holder or when the lease has run out.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from deskhand.system.models import Lease


def holder_name() -> str:
    """This process, as operators read it in the table: host, pid and a nonce (pids repeat)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def hold(name: str, *, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder` until now + `ttl`; False when another holds it."""
    now = timezone.now()
    renewed = Lease.objects.filter(Q(holder=holder) | Q(expires_at__lte=now), name=name)
    with transaction.atomic():
        if renewed.filter(holder=holder).update(expires_at=now + ttl):
            return True
        if renewed.update(holder=holder, expires_at=now + ttl, acquired=F("acquired") + 1):
            return True
        if Lease.objects.filter(name=name).exists():
            return False
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, expires_at=now + ttl, acquired=1)
    except IntegrityError:  # another process created it first
        return False
    return True


def release(name: str, *, holder: str) -> None:
    """Give the lease up at once (a clean stop), so the next scheduler need not wait for expiry."""
    Lease.objects.filter(name=name, holder=holder).update(expires_at=timezone.now())
