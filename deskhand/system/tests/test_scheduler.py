"""The scheduler's round, as the help desk relies on it between requests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from deskhand.core.actors import SYSTEM
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw
from deskhand.mail.models import EarlyReply
from deskhand.mail.services import create_mailbox
from deskhand.mail.tests.mails import make_mail
from deskhand.system.scheduler import tick

pytestmark = pytest.mark.django_db


def test_a_round_forgets_replies_whose_parent_has_not_come_in_a_week() -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    rows = [receive_raw(make_mail(subject=f"Re: {n}", in_reply_to=f"<parent-{n}@acme-corp.example>"),
                        transport="http", process=False) for n in range(2)]
    process_ids([row.pk for row in rows])
    EarlyReply.objects.filter(inbound_id=rows[0].pk).update(created_at=timezone.now() - timedelta(days=8))
    tick()
    assert list(EarlyReply.objects.values_list("awaits", flat=True)) == ["<parent-1@acme-corp.example>"]


def test_a_round_forgets_read_notifications_past_their_age(agent: Any) -> None:
    from deskhand.notifications.models import Notification
    from deskhand.work.inputs import ItemDraft
    from deskhand.work.services.items import submit_ticket

    ticket = submit_ticket(ItemDraft(title="Old", requester_email="bob@acme.example"), actor=SYSTEM)
    now = timezone.now()
    Notification.objects.bulk_create([
        Notification(agent=agent, item=ticket, event="mentioned", excerpt=f"{days} days",
                     created_at=now - timedelta(days=days), read_at=now) for days in (120, 10)])
    tick()
    assert list(Notification.objects.values_list("excerpt", flat=True)) == ["10 days"]
