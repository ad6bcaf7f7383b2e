"""Thin task wrappers: the notification mails, written after the event's commit."""

from __future__ import annotations

from typing import Any

from deskhand.core.tasks import task
from deskhand.notifications.services import MAILS_PER_TASK, MailNotice, queue_notification_mails


@task()
def mail_notifications(*, mails: list[list[Any]]) -> str:
    """Queue these notification mails (each as `MailNotice.as_args`); how many went to the outbox."""
    queued = queue_notification_mails([MailNotice.from_args(args) for args in mails[:MAILS_PER_TASK]])
    return f"{len(queued)} of {len(mails)} queued"
