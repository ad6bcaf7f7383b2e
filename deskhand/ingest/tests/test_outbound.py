"""The outbox as a customer's mail program sees it: threading headers, the ticket token, text and
HTML, loop protection on automatic mail; retries with backoff and permanent failures kept."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from django.utils import timezone

from deskhand.core.actors import SYSTEM, Actor
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw
from deskhand.ingest.tests.conftest import Capture
from deskhand.mail.models import OutboundMessage
from deskhand.mail.outbound import MAX_ATTEMPTS, deliver_outbound, due_outbound
from deskhand.mail.services import create_mailbox
from deskhand.mail.tests.mails import make_mail
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import NewAttachment, add_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(agent_actor: Actor) -> Item:
    return submit_ticket(ItemDraft(title="Printer on fire", description="Third floor.", requester_email="bob@acme.example"), actor=agent_actor)


def _sent(capture: Capture) -> Any:
    [raw] = capture.messages
    return message_from_bytes(raw, policy=policy.default)


def test_without_email_url_replies_stay_in_the_outbox(ticket: Item, agent_actor: Actor, settings: Any) -> None:
    settings.EMAIL_URL = ""
    add_message(ticket, kind="reply", body="Hello", actor=agent_actor)
    outbound = OutboundMessage.objects.get()
    assert deliver_outbound.call(outbound_id=outbound.pk) == "kept"
    outbound.refresh_from_db()
    assert outbound.status == "kept" and outbound.attempts == 1


def test_a_reply_is_sent_by_smtp_with_text_html_and_its_attachment(
        ticket: Item, agent_actor: Actor, settings: Any, smtp_server: tuple[Capture, int]) -> None:
    capture, port = smtp_server
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    add_message(ticket, kind="reply", body="Fixed, see the log.\n<b>not bold</b>", actor=agent_actor,
                attachments=[NewAttachment(name="fix.log", content=b"done\n", content_type="text/plain")])
    outbound = OutboundMessage.objects.get()
    assert deliver_outbound.call(outbound_id=outbound.pk) == "sent"
    assert deliver_outbound.call(outbound_id=outbound.pk) == "skipped"
    mail = _sent(capture)
    assert mail["To"] == "bob@acme.example"
    assert mail["Subject"] == f"[{ticket.reference}] Printer on fire"
    assert mail["Message-ID"] == outbound.rfc_message_id
    assert mail["X-Deskhand-Loop"]
    assert mail["Auto-Submitted"] is None  # a person wrote it
    assert "Fixed, see the log." in mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "fix.log" and attachment.get_content() == "done\n"


def test_replies_carry_the_thread_and_come_from_the_ticket_address(
        agent_actor: Actor, settings: Any, smtp_server: tuple[Capture, int]) -> None:
    capture, port = smtp_server
    create_mailbox(address="help@deskhand.test", actor=SYSTEM)
    inbound = receive_raw(make_mail(message_id="<q1@acme.example>", to="help@deskhand.test"), transport="http",
                          process=False)
    process_ids([inbound.pk])
    inbound.refresh_from_db()
    item = Item.objects.get(pk=inbound.item_id)
    add_message(item, kind="reply", body="On it.", actor=agent_actor)
    reply = OutboundMessage.objects.get(kind="reply")
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    deliver_outbound.call(outbound_id=reply.pk)
    mail = _sent(capture)
    ack = OutboundMessage.objects.get(kind="acknowledgement")
    assert mail["In-Reply-To"] == "<q1@acme.example>"
    assert mail["References"].split() == ["<q1@acme.example>", ack.rfc_message_id]
    assert mail["Reply-To"] == "help@deskhand.test"
    assert "help@deskhand.test" in mail["From"]


def test_automatic_mail_says_so(settings: Any, smtp_server: tuple[Capture, int]) -> None:
    capture, port = smtp_server
    inbound = receive_raw(make_mail(), transport="http", process=False)
    process_ids([inbound.pk])
    ack = OutboundMessage.objects.get(kind="acknowledgement")
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    assert deliver_outbound.call(outbound_id=ack.pk) == "sent"
    mail = _sent(capture)
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["Subject"].startswith(f"[#{inbound.pk}]") or "[#" in mail["Subject"]


def test_a_temporary_failure_is_retried_with_backoff_then_sent(
        ticket: Item, agent_actor: Actor, settings: Any, smtp_server: tuple[Capture, int]) -> None:
    capture, port = smtp_server
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    capture.reply = "451 4.3.0 try later"
    add_message(ticket, kind="reply", body="Hello", actor=agent_actor)
    outbound = OutboundMessage.objects.get()
    assert deliver_outbound.call(outbound_id=outbound.pk) == "queued"
    outbound.refresh_from_db()
    assert outbound.attempts == 1 and "451" in outbound.last_error
    first_wait = outbound.next_attempt_at - timezone.now()
    assert timedelta(seconds=20) < first_wait <= timedelta(seconds=31)
    assert deliver_outbound.call(outbound_id=outbound.pk) == "not yet"
    OutboundMessage.objects.filter(pk=outbound.pk).update(next_attempt_at=timezone.now())
    assert outbound.pk in due_outbound()
    capture.reply = "250 OK"
    assert deliver_outbound.call(outbound_id=outbound.pk) == "sent"
    outbound.refresh_from_db()
    assert outbound.attempts == 2 and outbound.sent_at is not None
    assert outbound.pk not in due_outbound()


def test_a_permanent_failure_is_kept_visible(ticket: Item, agent_actor: Actor, settings: Any,
                                            smtp_server: tuple[Capture, int]) -> None:
    capture, port = smtp_server
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    capture.reply = "550 5.1.1 no such user"
    add_message(ticket, kind="reply", body="Hello", actor=agent_actor)
    outbound = OutboundMessage.objects.get()
    assert deliver_outbound.call(outbound_id=outbound.pk) == "failed"
    outbound.refresh_from_db()
    assert "no such user" in outbound.last_error and outbound.next_attempt_at is None


def test_an_unreachable_server_is_retried_until_it_gives_up(ticket: Item, agent_actor: Actor, settings: Any) -> None:
    settings.EMAIL_URL = "smtp://127.0.0.1:9"
    add_message(ticket, kind="reply", body="Hello", actor=agent_actor)
    outbound = OutboundMessage.objects.get()
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        assert deliver_outbound.call(outbound_id=outbound.pk) == "queued"
        outbound.refresh_from_db()
        waits.append(round((outbound.next_attempt_at - timezone.now()).total_seconds()))
        OutboundMessage.objects.filter(pk=outbound.pk).update(next_attempt_at=timezone.now())
    assert waits == sorted(waits) and waits[-1] > waits[0] * 8
    assert deliver_outbound.call(outbound_id=outbound.pk) == "failed"
    outbound.refresh_from_db()
    assert outbound.attempts == MAX_ATTEMPTS and outbound.last_error


def test_a_crash_between_claim_and_send_is_picked_up_by_the_sweep(ticket: Item, agent_actor: Actor) -> None:
    add_message(ticket, kind="reply", body="Hello", actor=agent_actor)
    outbound = OutboundMessage.objects.get()
    OutboundMessage.objects.filter(pk=outbound.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert due_outbound() == [outbound.pk]


def test_agents_replies_are_not_capped(ticket: Item, agent_actor: Actor) -> None:
    for n in range(15):
        add_message(ticket, kind="reply", body=f"Reply {n}", actor=agent_actor)
    assert OutboundMessage.objects.filter(kind="reply").count() == 15


def test_a_batch_sends_each_mail_once_and_a_broken_one_waits_for_its_retry(
        ticket: Item, agent_actor: Actor, settings: Any, smtp_server: tuple[Capture, int]) -> None:
    from deskhand.mail.outbound import deliver_outbox

    capture, port = smtp_server
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    for body in ("First", "Second", "Third"):
        add_message(ticket, kind="reply", body=body, actor=agent_actor)
    rows = list(OutboundMessage.objects.order_by("id"))
    # The second one's attachment is gone from storage: that mail cannot be built.
    headers = rows[1].headers | {"attachments": [{"name": "gone.txt", "content_type": "text/plain",
                                                  "path": "no/such/file.txt"}]}
    OutboundMessage.objects.filter(pk=rows[1].pk).update(headers=headers)
    assert deliver_outbox.call(outbound_ids=[row.pk for row in rows]) == "1 queued, 2 sent"
    assert len(capture.messages) == 2
    broken = OutboundMessage.objects.get(pk=rows[1].pk)
    assert broken.status == "queued" and broken.attempts == 1 and broken.last_error
    assert broken.next_attempt_at > timezone.now() + timedelta(seconds=20)
    # The sweep later finds nothing else to send again.
    assert due_outbound() == []
    assert deliver_outbox.call(outbound_ids=[row.pk for row in rows]) == "1 not yet, 2 skipped"
    assert len(capture.messages) == 2


def test_when_the_server_cannot_be_reached_the_rest_of_the_batch_waits_without_an_attempt(
        ticket: Item, agent_actor: Actor, settings: Any) -> None:
    from deskhand.mail.outbound import deliver_outbox

    settings.EMAIL_URL = "smtp://127.0.0.1:9"
    for body in ("First", "Second", "Third"):
        add_message(ticket, kind="reply", body=body, actor=agent_actor)
    ids = list(OutboundMessage.objects.order_by("id").values_list("pk", flat=True))
    assert deliver_outbox.call(outbound_ids=ids) == "3 queued"
    rows = list(OutboundMessage.objects.order_by("id"))
    assert [row.attempts for row in rows] == [1, 0, 0]
    assert len({row.next_attempt_at for row in rows}) == 1 and rows[0].next_attempt_at > timezone.now()
