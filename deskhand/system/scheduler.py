"""The scheduler: a thread (in `deskhand worker`, or `deskhand scheduler` on its own) that turns
time into tasks. It decides nothing itself; each tick asks the domain what is due and enqueues the
matching task. Several may run, on several hosts: only the holder of the database lease
`scheduler` (deskhand/system/lease.py) runs a round, so a sweep never runs twice in a period."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import F
from django.utils import timezone

from deskhand.automations.sweep import sweep_elapsed
from deskhand.chat.services import sweep_unanswered
from deskhand.ingest.imap import due_mailboxes, poll_mailbox
from deskhand.ingest.pipeline import forget_early_replies
from deskhand.ingest.tasks import process_pending
from deskhand.mail.models import InboundEmail, InboundStatus
from deskhand.mail.outbound import DELIVERY_BATCH, deliver_outbox, due_outbound
from deskhand.notifications.services import forget_old_notifications
from deskhand.sla.services import sweep_and_automate
from deskhand.system.lease import hold, holder_name, release
from deskhand.system.models import Lease

log = logging.getLogger("deskhand.scheduler")

TICK_SECONDS = 5.0
LEASE = "scheduler"
# Long beside a round (well under a second) and short beside an operator's patience: a scheduler
# killed with -9 is replaced within this.
LEASE_TTL = timedelta(seconds=30)
STALE_INBOUND = timedelta(seconds=60)


def tick() -> None:
    """One round: mail left unprocessed, outbound mail due again, IMAP mailboxes due a poll,
    replies that waited for their parent long enough, SLA targets at risk or breached, the
    time-based automations, notifications past their age, and chats nobody accepted in time
    (they become tickets)."""
    if InboundEmail.objects.filter(status=InboundStatus.RECEIVED,
                                   received_at__lte=timezone.now() - STALE_INBOUND).exists():
        process_pending.enqueue()
    due = due_outbound()
    for start in range(0, len(due), DELIVERY_BATCH):
        deliver_outbox.enqueue(outbound_ids=due[start:start + DELIVERY_BATCH])
    for mailbox_id in due_mailboxes():
        poll_mailbox.enqueue(mailbox_id=mailbox_id)
    forget_early_replies()
    sweep_and_automate()
    sweep_elapsed()
    forget_old_notifications()
    sweep_unanswered()
    if settings.TASKS_VENDOR == "redis":
        enqueue_deferred_jobs()


def enqueue_deferred_jobs() -> None:
    """RQ keeps tasks with a `run_after` (retries of outbound mail) aside until a scheduler moves
    them to their queue; this round is that scheduler, so RQ workers need none of their own."""
    import django_rq
    from rq.scheduler import RQScheduler

    queues = list(settings.TASKS["default"].get("QUEUES") or ["default"])
    scheduler = RQScheduler(queues, connection=django_rq.get_connection(queues[0]))
    scheduler.prepare_registries(queues)
    scheduler.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]


def leased_tick(holder: str) -> bool:
    """Run a round when this process holds (or can take) the scheduler's lease; whether it did."""
    if not hold(LEASE, holder=holder, ttl=LEASE_TTL):
        return False
    tick()
    Lease.objects.filter(name=LEASE, holder=holder).update(rounds=F("rounds") + 1)
    return True


class Scheduler(threading.Thread):
    def __init__(self, *, interval: float = TICK_SECONDS) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        holder, leading = holder_name(), None
        while not self.stopped.wait(self.interval):
            try:
                close_old_connections()
                ran = leased_tick(holder)
                if ran != leading:
                    log.info("scheduler %s: %s", holder, "runs the rounds" if ran else "stands by (another holds the lease)")
                    leading = ran
            except Exception:  # noqa: BLE001 - a bad tick must not stop the next one
                log.exception("scheduler tick failed")
        try:
            release(LEASE, holder=holder)
        except Exception:  # noqa: BLE001 - the lease expires by itself
            log.warning("scheduler: could not release its lease", exc_info=True)
        close_old_connections()

    def stop(self) -> None:
        self.stopped.set()
