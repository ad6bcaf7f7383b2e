"""The scheduler: a thread in `serve` that turns time into tasks. It decides nothing itself;
each tick asks the domain what is due and enqueues the matching task."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.db import close_old_connections
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

log = logging.getLogger("deskhand.scheduler")

TICK_SECONDS = 5.0
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


class Scheduler(threading.Thread):
    def __init__(self, *, interval: float = TICK_SECONDS) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                close_old_connections()
                tick()
            except Exception:  # noqa: BLE001 - a bad tick must not stop the next one
                log.exception("scheduler tick failed")
        close_old_connections()

    def stop(self) -> None:
        self.stopped.set()
