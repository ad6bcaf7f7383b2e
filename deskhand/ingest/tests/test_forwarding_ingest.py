"""Ingesting forwarding set-up mail: the confirmations of Gmail and Microsoft are kept for the admin
and never filed; a look-alike is filed as ordinary mail; the first mail through the declared
forwarding address and the test mail's return are noted."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Customer
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw, retry
from deskhand.mail.models import ForwardedArrival, ForwardingConfirmation, InboundEmail, NeverFollow
from deskhand.mail.queries import forwarding_status
from deskhand.mail.services import create_mailbox, declare_forwarding_address, send_forwarding_test
from deskhand.mail.tests.mails import make_mail
from deskhand.mail.tests.test_forwarding import fixture
from deskhand.work.models import Item

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def support_address(db: Any) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)


def deliver(raw: bytes, *, envelope_from: str) -> InboundEmail:
    inbound = receive_raw(raw, process=False, transport="smtp", envelope_from=envelope_from,
                          envelope_to=["support@deskhand.test"])
    process_ids([inbound.pk])
    inbound.refresh_from_db()
    return inbound


def test_gmails_confirmation_is_kept_for_the_admin_and_never_filed() -> None:
    inbound = deliver(fixture("gmail_forwarding_confirmation.eml"), envelope_from="forwarding-noreply@google.com")
    assert inbound.status == "ignored" and "forwarding confirmation from Gmail" in inbound.reason
    assert inbound.item_id is None and not Item.objects.exists() and not Customer.objects.exists()
    kept = ForwardingConfirmation.objects.get()
    assert (kept.inbound_id, kept.provider, kept.code, kept.requested_by) == (
        inbound.pk, "gmail", "538827133", "support@yourcompany.com")
    assert kept.link.startswith("https://mail-settings.google.com/mail/vf-")
    retry(inbound, actor=SYSTEM)  # processed again: still one confirmation, still no ticket
    assert ForwardingConfirmation.objects.count() == 1 and not Item.objects.exists()


def test_microsofts_verification_is_kept_and_never_filed() -> None:
    inbound = deliver(fixture("microsoft_forwarding_verification.eml"),
                      envelope_from="account-security-noreply@accountprotection.microsoft.com")
    assert inbound.status == "ignored" and not Item.objects.exists() and not Customer.objects.exists()
    assert ForwardingConfirmation.objects.get().code == "4821"


def test_a_look_alike_is_filed_as_ordinary_mail() -> None:
    inbound = deliver(fixture("gmail_lookalike.eml"), envelope_from="bounce@google-mail-support.example")
    assert inbound.status == "processed", inbound.reason
    assert Item.objects.get(pk=inbound.item_id).requester.email == "forwarding-noreply@google-mail-support.example"
    assert not ForwardingConfirmation.objects.exists()


def test_the_real_from_with_a_foreign_envelope_is_filed_too() -> None:
    inbound = deliver(fixture("gmail_forwarding_confirmation.eml"), envelope_from="mallory@evil.example")
    assert inbound.status == "processed" and not ForwardingConfirmation.objects.exists()


def test_declaring_the_forwarding_address_puts_it_on_the_never_follow_list(admin_actor: Any) -> None:
    assert declare_forwarding_address(address=" Support@YourCompany.com ", actor=admin_actor) == "support@yourcompany.com"
    assert NeverFollow.objects.filter(address__iexact="support@yourcompany.com").count() == 1
    declare_forwarding_address(address="support@yourcompany.com", actor=admin_actor)  # again: no second entry
    assert NeverFollow.objects.filter(address__iexact="support@yourcompany.com").count() == 1


def test_the_first_mail_through_the_forwarding_address_is_noted_once(admin_actor: Any) -> None:
    declare_forwarding_address(address="support@yourcompany.com", actor=admin_actor)
    deliver(make_mail(to="support@deskhand.test"), envelope_from="zoe@acme-corp.example")
    assert not ForwardedArrival.objects.exists()
    first = deliver(make_mail(to="support@deskhand.test", headers={"Delivered-To": "support@yourcompany.com"}),
                    envelope_from="zoe@acme-corp.example")
    deliver(make_mail(to="support@yourcompany.com"), envelope_from="zoe@acme-corp.example")
    arrival = ForwardedArrival.objects.get()
    assert arrival.inbound_id == first.pk and forwarding_status().first_arrival == arrival


def test_the_test_mail_goes_out_and_is_seen_when_it_comes_back(admin_actor: Any, django_capture_on_commit_callbacks: Any
                                                              ) -> None:
    declare_forwarding_address(address="support@yourcompany.com", actor=admin_actor)
    test = send_forwarding_test(actor=admin_actor)
    assert test.outbound is not None and test.outbound.to == ["support@yourcompany.com"]
    assert "forwarding test" in test.outbound.subject.lower()
    assert forwarding_status().test_arrival is None
    # The forwarder sends it on unchanged: our own mail comes back, and is ignored as such.
    back = make_mail(sender="Support <support@deskhand.test>", to="support@yourcompany.com",
                     message_id=test.rfc_message_id, headers={"X-Deskhand-Loop": "deskhand.test"})
    inbound = deliver(back, envelope_from="support@yourcompany.com")
    assert inbound.status == "ignored" and not Item.objects.exists()
    status = forwarding_status()
    assert status.test_arrival is not None and status.test_arrival.pk == inbound.pk
    assert status.first_arrival is not None and status.first_arrival.inbound_id == inbound.pk
