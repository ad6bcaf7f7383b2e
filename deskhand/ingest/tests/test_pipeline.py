"""The inbound pipeline, as a help desk user sees it: mail becomes tickets, replies thread,
robots and loops are ignored with a reason, broken mail is kept as failed and can be retried."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskhand.agents.models import Agent
from deskhand.agents.services import create_agent
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.models import Customer
from deskhand.customers.services import create_organization
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw, retry
from deskhand.mail.models import InboundEmail, OutboundMessage
from deskhand.mail.queries import raw_bytes
from deskhand.mail.services import add_never_follow, create_mailbox
from deskhand.mail.tests.mails import make_mail
from deskhand.work.models import Follower, Item, Message
from deskhand.work.services.messages import add_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def support_address(db: Any) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)


def deliver(raw: bytes, **kwargs: Any) -> InboundEmail:
    kwargs.setdefault("transport", "smtp")
    kwargs.setdefault("envelope_from", "zoe@acme-corp.example")  # the From of make_mail
    inbound = receive_raw(raw, process=False, **kwargs)
    process_ids([inbound.pk])
    inbound.refresh_from_db()
    return inbound


def test_a_new_mail_becomes_a_ticket_with_its_customer_and_organization() -> None:
    create_organization("Acme Corp", domains=["acme-corp.example"], actor=SYSTEM)
    inbound = deliver(make_mail(subject="Re: Printer on floor 2 is offline"))
    assert inbound.status == "processed", inbound.reason
    item = Item.objects.get(pk=inbound.item_id)
    assert item.title == "Printer on floor 2 is offline"
    assert item.channel == "email"
    assert item.requester.email == "zoe@acme-corp.example"
    assert item.requester.name == "Zoë Müller"
    assert item.requester.source == "email"
    assert item.organization.name == "Acme Corp"
    message = Message.objects.get(item=item)
    assert message.kind == "customer" and message.channel == "email"
    assert "does not print" in message.body
    assert inbound.mailbox.address == "support@deskhand.test"


def test_the_requester_gets_an_acknowledgement_that_threads() -> None:
    inbound = deliver(make_mail(message_id="<first@acme-corp.example>"))
    ack = OutboundMessage.objects.get(kind="acknowledgement")
    assert ack.to == ["zoe@acme-corp.example"]
    assert ack.subject.startswith(f"[#{inbound.item_id}]")
    assert ack.headers["In-Reply-To"] == "<first@acme-corp.example>"
    assert ack.headers["Auto-Submitted"] == "auto-replied"
    assert ack.headers["Reply-To"] == "support@deskhand.test"
    assert "We received your request" in ack.subject
    assert ack.body_html and ack.body_text


def test_acknowledgements_can_be_switched_off() -> None:
    update_settings({"email_acknowledgement": False}, actor=SYSTEM)
    deliver(make_mail())
    assert not OutboundMessage.objects.exists()


def test_a_sender_gets_at_most_the_capped_number_of_automatic_mails() -> None:
    update_settings({"auto_reply_cap": 2}, actor=SYSTEM)
    for n in range(4):
        deliver(make_mail(subject=f"Request {n}"))
    assert Item.objects.count() == 4
    assert OutboundMessage.objects.filter(kind="acknowledgement").count() == 2


def test_the_cap_on_automatic_mails_counts_within_one_batch_too() -> None:
    update_settings({"auto_reply_cap": 2}, actor=SYSTEM)
    deliver(make_mail(subject="Earlier"))
    rows = [receive_raw(make_mail(subject=f"Request {n}"), transport="smtp", envelope_from="zoe@acme-corp.example",
                        process=False) for n in range(3)]
    process_ids([row.pk for row in rows])
    assert Item.objects.count() == 4
    acks = OutboundMessage.objects.filter(kind="acknowledgement").order_by("id")
    assert [ack.item.title for ack in acks] == ["Earlier", "Request 0"]
    assert all(ack.headers["In-Reply-To"] for ack in acks)


def test_cc_addresses_follow_except_our_own_and_the_never_follow_list() -> None:
    add_never_follow(address="noreply@partner.example", actor=SYSTEM)
    create_agent("ana@deskhand.test", name="Ana", password="correct-horse-9", actor=SYSTEM)
    inbound = deliver(make_mail(
        to="support@deskhand.test, Bob <bob@acme-corp.example>",
        cc="ANA@deskhand.test, noreply@partner.example, Support <SUPPORT@deskhand.test>, =?utf-8?q?Ren=C3=A9?= "
           "<rene@other.example>"))
    followers = Follower.objects.filter(item_id=inbound.item_id)
    customers = sorted(f.customer.email for f in followers if f.customer_id)
    agents = [f.agent.email for f in followers if f.agent_id]
    assert customers == ["bob@acme-corp.example", "rene@other.example", "zoe@acme-corp.example"]
    assert agents == ["ana@deskhand.test"]
    assert not Customer.objects.filter(email__iexact="support@deskhand.test").exists()
    assert not Customer.objects.filter(email="noreply@partner.example").exists()


def test_a_reply_threads_by_in_reply_to_even_with_a_new_subject() -> None:
    first = deliver(make_mail(message_id="<one@acme-corp.example>"))
    reply = deliver(make_mail(subject="something else entirely", in_reply_to="<one@acme-corp.example>",
                              body="Any news?\n\nOn Monday, Zoë wrote:\n> Hello,\n> the printer..."))
    assert reply.item_id == first.item_id
    assert Item.objects.count() == 1
    message = Message.objects.get(pk=reply.message_id)
    assert message.body == "Any news?"
    assert "> the printer" in message.full_body
    assert OutboundMessage.objects.filter(kind="acknowledgement").count() == 1


def test_a_reply_stored_just_before_its_parent_in_one_batch_threads_into_the_parents_ticket() -> None:
    reply = receive_raw(make_mail(subject="Re: Printer", in_reply_to="<p1@acme-corp.example>", body="Still broken."),
                        transport="smtp", envelope_from="zoe@acme-corp.example", process=False)
    parent = receive_raw(make_mail(subject="Printer", message_id="<p1@acme-corp.example>"),
                         transport="smtp", envelope_from="zoe@acme-corp.example", process=False)
    process_ids([reply.pk, parent.pk])
    reply.refresh_from_db()
    parent.refresh_from_db()
    assert reply.item_id == parent.item_id
    item = Item.objects.get()
    assert item.title == "Printer" and "does not print" in item.description
    assert OutboundMessage.objects.filter(kind="acknowledgement").count() == 1


def test_a_parent_that_arrives_after_its_reply_is_filed_into_the_ticket_the_reply_opened() -> None:
    create_agent("ana@deskhand.test", name="Ana", password="correct-horse-9", actor=SYSTEM)
    reply = deliver(make_mail(sender="Carl <carl@acme-corp.example>", subject="Re: Printer", body="Me too.",
                              in_reply_to="<late@acme-corp.example>"), envelope_from="carl@acme-corp.example")
    assert reply.status == "processed"
    parent = deliver(make_mail(subject="Printer", message_id="<late@acme-corp.example>",
                               cc="carl@acme-corp.example"))
    assert parent.status == "processed", parent.reason
    assert parent.item_id == reply.item_id and Item.objects.count() == 1
    assert f"filed into #{reply.item_id}" in parent.reason
    item = Item.objects.get()
    bodies = [message.body for message in Message.objects.filter(item=item).order_by("id")]
    assert bodies[0] == "Me too." and "does not print" in bodies[1]
    assert item.requester.email == "carl@acme-corp.example"
    assert Follower.objects.filter(item=item, customer__email="zoe@acme-corp.example").exists()
    # Only the ticket the reply opened was acknowledged: nothing new was opened for the parent.
    assert OutboundMessage.objects.filter(kind="acknowledgement").count() == 1
    # And a later reply to either mail lands in the same ticket.
    again = deliver(make_mail(subject="Re: Printer", in_reply_to="<late@acme-corp.example>", body="Any news?"))
    assert again.item_id == item.pk


def test_two_replies_before_their_parent_wait_in_one_ticket_which_the_parent_then_joins() -> None:
    first = deliver(make_mail(subject="Re: VPN", in_reply_to="<vpn@acme-corp.example>", body="Down again."))
    second = deliver(make_mail(subject="Re: VPN", in_reply_to="<vpn@acme-corp.example>", body="Still down."))
    parent = deliver(make_mail(subject="VPN", message_id="<vpn@acme-corp.example>"))
    assert first.item_id == second.item_id == parent.item_id
    assert Item.objects.count() == 1


def test_replies_before_their_parent_in_one_batch_wait_in_one_ticket() -> None:
    rows = _stored(make_mail(subject="Re: VPN", in_reply_to="<vpn2@acme-corp.example>", body="Down again."),
                   make_mail(subject="Re: VPN", in_reply_to="<vpn2@acme-corp.example>", body="Still down."))
    done = process_ids([row.pk for row in rows])
    assert done[0].item_id == done[1].item_id
    parent = deliver(make_mail(subject="VPN", message_id="<vpn2@acme-corp.example>"))
    assert parent.item_id == done[0].item_id and Item.objects.count() == 1


def test_a_strangers_reply_to_the_same_missing_parent_opens_its_own_ticket() -> None:
    zoe = deliver(make_mail(subject="Re: VPN", in_reply_to="<vpn3@acme-corp.example>", body="Down again."))
    mallory = deliver(make_mail(sender="Mallory <mallory@evil.example>", subject="Re: VPN",
                                in_reply_to="<vpn3@acme-corp.example>"), envelope_from="mallory@evil.example")
    assert mallory.item_id != zoe.item_id


def test_a_parent_that_has_not_come_in_a_week_is_no_longer_waited_for() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from deskhand.ingest.pipeline import forget_early_replies
    from deskhand.mail.models import EarlyReply

    old = deliver(make_mail(subject="Re: Old", in_reply_to="<old-parent@acme-corp.example>", body="Hello?"))
    recent = deliver(make_mail(subject="Re: New", in_reply_to="<new-parent@acme-corp.example>", body="Hi"))
    EarlyReply.objects.filter(inbound_id=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert forget_early_replies() == 1  # what the scheduler does every round
    assert list(EarlyReply.objects.values_list("awaits", flat=True)) == ["<new-parent@acme-corp.example>"]
    parent = deliver(make_mail(subject="Old", message_id="<old-parent@acme-corp.example>"))
    assert parent.item_id != old.item_id  # too late: a ticket of its own
    assert deliver(make_mail(subject="New", message_id="<new-parent@acme-corp.example>")).item_id == recent.item_id


def test_a_stranger_naming_a_message_id_first_does_not_capture_the_mail_that_has_it() -> None:
    trap = deliver(make_mail(sender="Mallory <mallory@evil.example>", subject="Re: Invoice",
                             in_reply_to="<invoice-7@acme-corp.example>"), envelope_from="mallory@evil.example")
    real = deliver(make_mail(subject="Invoice", message_id="<invoice-7@acme-corp.example>"))
    assert real.status == "processed"
    assert real.item_id != trap.item_id
    assert Item.objects.get(pk=real.item_id).requester.email == "zoe@acme-corp.example"


def test_a_reply_to_our_own_mail_threads_by_references() -> None:
    first = deliver(make_mail())
    agent = create_agent("ana@deskhand.test", name="Ana", password="correct-horse-9", actor=SYSTEM)
    item = Item.objects.get(pk=first.item_id)
    add_message(item, kind="reply", body="Please restart it.", actor=Actor.agent(agent))
    ours = OutboundMessage.objects.get(kind="reply")
    assert ours.headers["References"].startswith(first.rfc_message_id)
    answer = deliver(make_mail(subject="Antwort: stuff", references=f"<unknown@x> {ours.rfc_message_id}"))
    assert answer.item_id == item.pk


@pytest.mark.parametrize("prefix", ["Re:", "RE:", "AW:", "SV:", "VS:", "Antw:", "Odp:", "Réf. :", "Re[2]:",
                                    "Fwd: Re:"])
def test_a_reply_threads_by_the_ticket_token_with_localized_prefixes(prefix: str) -> None:
    first = deliver(make_mail())
    reply = deliver(make_mail(subject=f"{prefix} [#{first.item_id}] Printer on floor 2 is offline"))
    assert reply.item_id == first.item_id


def test_a_stranger_cannot_write_into_a_ticket_by_guessing_its_token() -> None:
    first = deliver(make_mail())
    stranger = deliver(make_mail(sender="mallory@evil.example", subject=f"Re: [#{first.item_id}] hello"))
    assert stranger.status == "processed"
    assert stranger.item_id != first.item_id


def test_a_colleague_of_the_requester_may_thread_by_token() -> None:
    create_organization("Acme Corp", domains=["acme-corp.example"], actor=SYSTEM)
    first = deliver(make_mail())
    colleague = deliver(make_mail(sender="bob@acme-corp.example", subject=f"Re: [#{first.item_id}] same here"))
    assert colleague.item_id == first.item_id
    assert Follower.objects.filter(item_id=first.item_id, customer__email="bob@acme-corp.example").exists()


def test_mail_from_an_agent_into_a_thread_stays_an_internal_note() -> None:
    create_agent("ana@deskhand.test", name="Ana", password="correct-horse-9", actor=SYSTEM)
    first = deliver(make_mail(message_id="<n1@acme-corp.example>"))
    note = deliver(make_mail(sender="Ana <ana@deskhand.test>", in_reply_to="<n1@acme-corp.example>"))
    assert Message.objects.get(pk=note.message_id).kind == "note"
    assert note.item_id == first.item_id


def test_the_same_message_id_twice_makes_nothing_new() -> None:
    deliver(make_mail(message_id="<dup@acme-corp.example>"))
    again = deliver(make_mail(message_id="<dup@acme-corp.example>"))
    assert again.status == "ignored"
    assert "duplicate" in again.reason
    assert Item.objects.count() == 1


@pytest.mark.parametrize(("headers", "envelope_from", "sender", "reason"), [
    ({"Auto-Submitted": "auto-replied"}, "x@y.example", "x@y.example", "Auto-Submitted"),
    ({"Auto-Submitted": "auto-generated"}, "x@y.example", "x@y.example", "Auto-Submitted"),
    ({"Precedence": "bulk"}, "x@y.example", "x@y.example", "Precedence"),
    ({"Precedence": "junk"}, "x@y.example", "x@y.example", "Precedence"),
    ({"Precedence": "list"}, "x@y.example", "x@y.example", "Precedence"),
    ({"X-Auto-Response-Suppress": "All"}, "x@y.example", "x@y.example", "X-Auto-Response-Suppress"),
    ({"List-Id": "<news.acme.example>"}, "x@y.example", "x@y.example", "mailing list"),
    ({"List-Unsubscribe": "<mailto:u@acme.example>"}, "x@y.example", "x@y.example", "mailing list"),
    ({}, "", "x@y.example", "null envelope sender"),
    ({}, "x@y.example", "MAILER-DAEMON@mx.example", "bounce"),
    ({}, "x@y.example", "postmaster@mx.example", "bounce"),
    ({"Return-Path": "<>"}, "x@y.example", "x@y.example", "null sender"),
    ({}, "x@y.example", "support@deskhand.test", "own ticket address"),
    ({"X-Deskhand-Loop": "deskhand.test"}, "x@y.example", "x@y.example", "X-Deskhand-Loop"),
])
def test_robots_and_loops_never_make_tickets_or_replies(headers: dict[str, str], envelope_from: str, sender: str,
                                                        reason: str) -> None:
    inbound = deliver(make_mail(sender=sender, headers=headers), envelope_from=envelope_from)
    assert inbound.status == "ignored"
    assert reason.lower() in inbound.reason.lower()
    assert not Item.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_auto_submitted_no_is_a_person() -> None:
    inbound = deliver(make_mail(headers={"Auto-Submitted": "no"}))
    assert inbound.status == "processed"


def test_a_delivery_report_is_ignored() -> None:
    raw = (b"From: mailer@mx.example\r\nTo: support@deskhand.test\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
           b"--R\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--R--\r\n")
    inbound = deliver(raw)
    assert inbound.status == "ignored" and "report" in inbound.reason


def test_mail_without_a_sender_is_kept_as_failed_and_can_be_retried() -> None:
    inbound = deliver(make_mail(sender=""), transport="http", envelope_from=None)
    assert inbound.status == "failed"
    assert "no sender" in inbound.reason
    assert raw_bytes(inbound.pk)
    retried = retry(inbound, actor=SYSTEM)
    assert retried.status == "received"


def test_only_an_administrator_may_retry_a_mail() -> None:
    from deskhand.core.errors import Forbidden

    inbound = deliver(make_mail(sender=""), transport="http", envelope_from=None)
    agent = create_agent("bo@deskhand.test", name="Bo", password="correct-horse-9", actor=SYSTEM)
    with pytest.raises(Forbidden):
        retry(inbound, actor=Actor.agent(agent))
    assert InboundEmail.objects.get(pk=inbound.pk).status == "failed"  # nothing changed


def test_without_from_the_envelope_sender_is_used() -> None:
    inbound = deliver(make_mail(sender=""), envelope_from="ops@acme-corp.example")
    assert inbound.status == "processed"
    assert Item.objects.get(pk=inbound.item_id).requester.email == "ops@acme-corp.example"


def test_an_oversized_attachment_fails_the_mail_and_tells_the_sender() -> None:
    update_settings({"attachment_max_bytes": 1000}, actor=SYSTEM)
    inbound = deliver(make_mail(attachments=[("big.bin", b"x" * 5000, "application/octet-stream")]))
    assert inbound.status == "failed"
    assert "big.bin" in inbound.reason and "limit" in inbound.reason
    assert not Item.objects.exists()
    assert not Customer.objects.exists()  # nothing half-written
    notice = OutboundMessage.objects.get(kind="rejected")
    assert notice.to == ["zoe@acme-corp.example"]
    assert "big.bin" in notice.body_text
    assert notice.headers["Auto-Submitted"] == "auto-replied"


def test_a_blocked_attachment_type_fails_with_the_reason() -> None:
    inbound = deliver(make_mail(attachments=[("setup.exe", b"MZ", "application/octet-stream")]))
    assert inbound.status == "failed" and ".exe" in inbound.reason


def test_attachments_keep_their_names_types_and_sizes() -> None:
    inbound = deliver(make_mail(attachments=[("Rechnung März.pdf", b"%PDF-1.4 data", "application/pdf"),
                                             ("screen.png", b"\x89PNG....", "image/png")]))
    message = Message.objects.get(pk=inbound.message_id)
    stored = {(a.name, a.content_type, a.size) for a in message.attachments.all()}
    assert stored == {("Rechnung März.pdf", "application/pdf", 13), ("screen.png", "image/png", 8)}


def test_hostile_html_is_sanitized_and_text_kept() -> None:
    inbound = deliver(make_mail(html='<p onmouseover="x()">Hi</p><script>alert(1)</script>'))
    message = Message.objects.get(pk=inbound.message_id)
    assert "<script" not in message.body_html and "onmouseover" not in message.body_html
    assert "does not print" in message.body


def test_a_null_byte_and_legacy_8bit_body_become_a_clean_ticket() -> None:
    raw = ("From: Jörg <joerg@acme-corp.example>\r\nTo: support@deskhand.test\r\nSubject: Größe\x00\r\n"
           "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           "Die Größe stimmt nicht\x00.\r\n").encode("latin-1")
    inbound = deliver(raw)
    assert inbound.status == "processed", inbound.reason
    item = Item.objects.get(pk=inbound.item_id)
    assert item.title == "Größe"
    assert item.description == "Die Größe stimmt nicht."
    assert item.requester.name == "Jörg"


def test_ten_thousand_recipients_add_a_bounded_number_of_followers() -> None:
    recipients = ", ".join(f"p{n}@many.example" for n in range(10_000))
    inbound = deliver(make_mail(cc=recipients))
    assert inbound.status == "processed"
    assert Follower.objects.filter(item_id=inbound.item_id).count() == 51  # the requester + 50
    assert "not added as followers" in inbound.reason


def test_a_bug_keeps_the_mail_as_failed_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("deskhand.ingest.pipeline.create_items", broken)
    inbound = deliver(make_mail())
    assert inbound.status == "failed"
    assert "RuntimeError: boom" in inbound.reason
    assert not Item.objects.exists()
    monkeypatch.undo()
    retry(inbound, actor=SYSTEM)
    process_ids([inbound.pk])
    inbound.refresh_from_db()
    assert inbound.status == "processed"


def test_processing_twice_changes_nothing() -> None:
    inbound = deliver(make_mail())
    assert process_ids([inbound.pk]) == []
    assert Item.objects.count() == 1


def test_forwarded_mail_finds_its_mailbox_by_delivered_to() -> None:
    create_mailbox(address="help@deskhand.test", actor=SYSTEM)
    inbound = deliver(make_mail(to="it-team@acme-corp.example", headers={"Delivered-To": "help@deskhand.test"}),
                      envelope_to=["forwarder@relay.example"])
    assert inbound.mailbox.address == "help@deskhand.test"
    ack = OutboundMessage.objects.get(kind="acknowledgement")
    assert ack.headers["Reply-To"] == "help@deskhand.test"


def test_an_agent_is_not_created_as_customer_when_cc_d(agent: Agent) -> None:
    inbound = deliver(make_mail(cc=agent.email.upper()))
    assert Follower.objects.filter(item_id=inbound.item_id, agent=agent).exists()
    assert not Customer.objects.filter(email__iexact=agent.email).exists()


def test_the_address_a_mail_was_delivered_to_never_follows_even_when_unknown() -> None:
    inbound = deliver(make_mail(to="helpdesk@newco.example, Bob <bob@acme-corp.example>",
                                cc="carol@acme-corp.example"),
                      envelope_to=["helpdesk@newco.example"])
    followers = sorted(f.customer.email for f in Follower.objects.filter(item_id=inbound.item_id))
    assert followers == ["bob@acme-corp.example", "carol@acme-corp.example", "zoe@acme-corp.example"]
    assert not Customer.objects.filter(email="helpdesk@newco.example").exists()


def test_without_a_known_delivery_address_only_cc_follows() -> None:
    inbound = deliver(make_mail(to="helpdesk@newco.example, Bob <bob@acme-corp.example>",
                                cc="carol@acme-corp.example"), transport="http", envelope_from=None)
    followers = sorted(f.customer.email for f in Follower.objects.filter(item_id=inbound.item_id))
    # Which address on the To line is the help desk is unknown, so nobody there is taken for a person.
    assert followers == ["carol@acme-corp.example", "zoe@acme-corp.example"]
    assert not Customer.objects.filter(email="helpdesk@newco.example").exists()


def test_a_cc_d_newcomer_gets_the_name_the_mail_gives() -> None:
    deliver(make_mail(cc="=?utf-8?q?Ren=C3=A9_Dupont?= <rene@other.example>"))
    assert Customer.objects.get(email="rene@other.example").name == "René Dupont"


def _log(characters: int) -> str:
    line = "2025-01-07 10:00:00 ERROR worker-3 connection reset by peer while reading the queue\n"
    return (line * (characters // len(line) + 1))[:characters]


def test_a_mail_longer_than_the_description_limit_is_filed_with_the_whole_text_attached() -> None:
    pasted = _log(144_000)
    inbound = deliver(make_mail(body=f"Our worker crashes, the log:\n\n{pasted}"))
    assert inbound.status == "processed", inbound.reason
    item = Item.objects.get(pk=inbound.item_id)
    assert len(item.description) <= 100_000
    assert item.description.startswith("Our worker crashes")
    assert "the full text is attached as full-text.txt" in item.description
    message = Message.objects.get(pk=inbound.message_id)
    attachment = message.attachments.get(name="full-text.txt")
    assert attachment.content_type.startswith("text/plain")
    with attachment.file.open("rb") as handle:
        assert pasted.strip() in handle.read().decode("utf-8")
    assert OutboundMessage.objects.filter(kind="acknowledgement").exists()  # the sender hears of it


def test_a_reply_longer_than_a_message_is_threaded_with_the_whole_text_attached() -> None:
    first = deliver(make_mail(message_id="<start@acme-corp.example>"))
    pasted = _log(250_000)
    inbound = deliver(make_mail(body=pasted, in_reply_to="<start@acme-corp.example>"))
    assert inbound.status == "processed", inbound.reason
    assert inbound.item_id == first.item_id
    message = Message.objects.get(pk=inbound.message_id)
    assert len(message.body) <= 200_000 and "full-text.txt" in message.body
    assert message.attachments.get(name="full-text.txt").size == len(pasted.encode())


@pytest.mark.parametrize("name", ["..", ".", "../../etc/passwd", "...", "CON", "a" * 300 + ".log", "nul.txt"])
def test_an_attachment_name_storage_would_refuse_is_renamed_and_the_mail_filed(name: str) -> None:
    inbound = deliver(make_mail(attachments=[(name, b"data", "text/plain")]))
    assert inbound.status == "processed", inbound.reason
    attachment = Message.objects.get(pk=inbound.message_id).attachments.get()
    assert attachment.name and attachment.name.strip(".") and len(attachment.name) <= 200
    with attachment.file.open("rb") as handle:
        assert handle.read() == b"data"


def test_no_acknowledgement_when_the_envelope_sender_is_not_the_from_address() -> None:
    """Backscatter: spam that forges a stranger's From must not make us mail the stranger."""
    inbound = deliver(make_mail(sender="Victim <victim@innocent.example>"), envelope_from="bulk@spammer.example")
    assert inbound.status == "processed" and inbound.item_id is not None  # the ticket is filed all the same
    assert not OutboundMessage.objects.filter(kind="acknowledgement").exists()
    assert inbound.reason == ("no acknowledgement: the envelope sender bulk@spammer.example is not the From "
                              "address victim@innocent.example")


@pytest.mark.parametrize(("transport", "envelope_from"), [("smtp", "Zoe@ACME-corp.example"), ("http", None),
                                                          ("imap", None)])
def test_the_acknowledgement_goes_out_when_the_envelope_agrees_or_is_unknown(transport: str,
                                                                           envelope_from: str | None) -> None:
    inbound = deliver(make_mail(), transport=transport, envelope_from=envelope_from)
    assert inbound.reason == ""
    assert OutboundMessage.objects.get(kind="acknowledgement").to == ["zoe@acme-corp.example"]


def test_a_refusal_notice_is_not_sent_to_a_from_address_the_envelope_does_not_vouch_for() -> None:
    update_settings({"attachment_max_bytes": 10}, actor=SYSTEM)
    raw = make_mail(sender="victim@innocent.example", attachments=[("a.bin", b"x" * 100, "application/octet-stream")])
    inbound = deliver(raw, envelope_from="bulk@spammer.example")
    assert inbound.status == "failed"
    assert "sender not told: the envelope sender bulk@spammer.example is not the From address" in inbound.reason
    assert not OutboundMessage.objects.exists()
    deliver(make_mail(attachments=[("a.bin", b"x" * 100, "application/octet-stream")]))
    assert OutboundMessage.objects.get().kind == "rejected"  # the envelope agrees: the sender is told


def test_large_mails_are_processed_one_by_one_and_small_ones_together() -> None:
    from deskhand.ingest.pipeline import size_batches

    mb = 1024 * 1024
    sizes = [(1, 10_000), (2, 20_000), (3, 90 * mb), (4, 90 * mb), (5, 5_000), (6, 3 * mb), (7, 6 * mb)]
    assert size_batches(sizes, budget=8 * mb) == [[1, 2], [3], [4], [5, 6], [7]]


def test_a_batch_of_mixed_sizes_is_all_filed() -> None:
    small = [receive_raw(make_mail(subject=f"Small {n}"), transport="http", process=False) for n in range(3)]
    big = receive_raw(make_mail(subject="Big", attachments=[("log.txt", b"x" * (9 * 1024 * 1024), "text/plain")]),
                      transport="http", process=False)
    update_settings({"attachment_max_bytes": 20 * 1024 * 1024}, actor=SYSTEM)
    done = process_ids([row.pk for row in [*small, big]])
    assert sorted(row.status for row in done) == ["processed"] * 4


def test_a_large_mail_is_filed_from_a_stream_with_its_attachments_intact() -> None:
    update_settings({"attachment_max_bytes": 20 * 1024 * 1024}, actor=SYSTEM)
    dump = bytes(range(256)) * (24 * 1024)  # 6 MB: the mail is over the streaming threshold
    inbound = deliver(make_mail(subject="Core dump", body="Crash, dump attached.",
                                attachments=[("core.dump", dump, "application/octet-stream"),
                                             ("notes.txt", b"small one", "text/plain")]))
    assert inbound.status == "processed", inbound.reason
    message = Message.objects.get(pk=inbound.message_id)
    assert message.body == "Crash, dump attached."
    stored = message.attachments.get(name="core.dump")
    assert stored.size == len(dump) and stored.sha256 == hashlib.sha256(dump).hexdigest()
    with stored.file.open("rb") as handle:
        assert handle.read() == dump
    assert message.attachments.get(name="notes.txt").size == 9


def test_a_large_mail_over_the_attachment_limit_fails_from_its_size_and_the_sender_is_told() -> None:
    inbound = deliver(make_mail(attachments=[("video.mp4", b"v" * (30 * 1024 * 1024), "video/mp4")]))
    assert inbound.status == "failed" and "video.mp4 is larger than the limit of 25 MB" in inbound.reason
    assert not Item.objects.exists()
    assert OutboundMessage.objects.get().kind == "rejected"


def test_a_huge_text_mail_is_filed_with_its_beginning_and_the_whole_text_attached() -> None:
    update_settings({"attachment_max_bytes": 20 * 1024 * 1024}, actor=SYSTEM)
    pasted = _log(6 * 1024 * 1024)
    inbound = deliver(make_mail(body=f"Our worker crashes, the log:\n\n{pasted}"))
    assert inbound.status == "processed", inbound.reason
    item = Item.objects.get(pk=inbound.item_id)
    assert item.description.startswith("Our worker crashes") and "full-text.txt" in item.description
    attachment = Message.objects.get(pk=inbound.message_id).attachments.get(name="full-text.txt")
    with attachment.file.open("rb") as handle:
        assert pasted.strip() in handle.read().decode("utf-8")


def test_setting_the_status_of_a_large_mail_does_not_rewrite_its_bytes() -> None:
    inbound = receive_raw(make_mail(attachments=[("a.bin", b"a" * (5 * 1024 * 1024), "application/octet-stream")]),
                          transport="http", process=False)
    before = raw_bytes(inbound.pk)
    with CaptureQueriesContext(connection) as queries:
        process_ids([inbound.pk])
    writes = [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().upper().startswith("UPDATE")]
    assert writes and not any("inboundraw" in sql.lower() for sql in writes)
    assert raw_bytes(inbound.pk) == before


def _stored(*raws: bytes) -> list[InboundEmail]:
    return [receive_raw(raw, transport="smtp", envelope_from="zoe@acme-corp.example", process=False) for raw in raws]


def test_a_reply_in_the_same_batch_as_its_parent_threads_into_the_new_ticket() -> None:
    rows = _stored(make_mail(message_id="<parent@acme-corp.example>", subject="VPN drops"),
                   make_mail(message_id="<child@acme-corp.example>", in_reply_to="<parent@acme-corp.example>",
                             subject="Re: VPN drops", body="Still dropping."),
                   make_mail(message_id="<grandchild@acme-corp.example>", in_reply_to="<child@acme-corp.example>",
                             subject="Re: VPN drops", body="Now it works."))
    done = process_ids([row.pk for row in rows])
    assert [row.status for row in done] == ["processed"] * 3
    assert len({row.item_id for row in done}) == 1
    item = Item.objects.get()
    assert list(item.messages.order_by("id").values_list("body", flat=True))[1:] == ["Still dropping.", "Now it works."]


def test_the_same_message_id_twice_in_one_batch_files_once() -> None:
    raw = make_mail(message_id="<twice@acme-corp.example>")
    done = process_ids([row.pk for row in _stored(raw, raw)])
    assert [row.status for row in done] == ["processed", "ignored"]
    assert "duplicate" in done[1].reason and Item.objects.count() == 1


def test_a_mail_that_breaks_the_batch_is_kept_failed_and_the_others_are_filed(monkeypatch: pytest.MonkeyPatch
                                                                              ) -> None:
    import deskhand.ingest.pipeline as pipeline

    real = pipeline.create_items

    def poisoned(batch: Any, **kwargs: Any) -> Any:
        if any(new.title == "Poison" for new in batch):
            raise RuntimeError("the database said no")
        return real(batch, **kwargs)

    monkeypatch.setattr(pipeline, "create_items", poisoned)
    rows = _stored(make_mail(subject="First"), make_mail(subject="Poison"), make_mail(subject="Last"))
    done = process_ids([row.pk for row in rows])
    assert [row.status for row in done] == ["processed", "failed", "processed"]
    assert "the database said no" in done[1].reason
    assert sorted(Item.objects.values_list("title", flat=True)) == ["First", "Last"]
    assert Customer.objects.count() == 1  # the failed mail left nothing of its own behind


def test_a_batch_of_new_mail_costs_a_few_statements_whatever_its_size() -> None:
    def statements(count: int, offset: int) -> int:
        rows = _stored(*(make_mail(sender=f"Person {n} <p{n}@co{n}.example>", cc=f"c{n}@co{n}.example",
                                   subject=f"Request {n}") for n in range(offset, offset + count)))
        with CaptureQueriesContext(connection) as queries:
            process_ids([row.pk for row in rows])
        assert InboundEmail.objects.filter(status="processed").count() == offset + count
        return len(queries.captured_queries)

    small, large = statements(5, 0), statements(40, 5)
    assert large <= small + 10, (small, large)


def test_a_huge_text_mail_in_a_failed_batch_keeps_its_whole_text_when_filed_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import deskhand.ingest.pipeline as pipeline

    real = pipeline.queue_acknowledgements

    def poisoned(acks: list[Any]) -> Any:  # fails after the batch stored its messages' files
        if any(ack.item.title == "Poison" for ack in acks):
            raise RuntimeError("the database said no")
        return real(acks)

    monkeypatch.setattr(pipeline, "queue_acknowledgements", poisoned)
    update_settings({"attachment_max_bytes": 20 * 1024 * 1024}, actor=SYSTEM)
    pasted = _log(6 * 1024 * 1024)
    rows = _stored(make_mail(subject="Log", body=pasted), make_mail(subject="Poison"))
    done = process_ids([row.pk for row in rows])
    assert [row.status for row in done] == ["processed", "failed"]
    attachment = Message.objects.get(pk=done[0].message_id).attachments.get(name="full-text.txt")
    assert attachment.size >= len(pasted.strip().encode())
