"""IMAP mailboxes (imap-tools): fetch raw mail, store it, enqueue processing (transport only)."""

from __future__ import annotations

from django.utils import timezone

from deskhand.core.tasks import task
from deskhand.mail.models import Mailbox


def due_mailboxes() -> list[int]:
    """IMAP mailboxes whose poll interval has passed since their last poll."""
    now = timezone.now()
    return [mailbox.pk for mailbox in Mailbox.objects.exclude(imap_host="")
            if mailbox.last_poll_at is None
            or (now - mailbox.last_poll_at).total_seconds() >= mailbox.poll_seconds]


@task()
def poll_mailbox(*, mailbox_id: int) -> str:
    raise NotImplementedError  # replaced by the IMAP poller below


def test_connection(mailbox: Mailbox) -> tuple[bool, str]:
    raise NotImplementedError  # replaced by the IMAP poller
