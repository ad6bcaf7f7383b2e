"""A customer's language, learnt from the mail they write: the Content-Language of their first
mail (`fr-CA` is French) becomes their language when they have none, and the acknowledgement is
written in it; a language they have is never replaced, and one we do not ship is ignored."""

from __future__ import annotations

import re
from typing import Any

import pytest

from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Customer, Source
from deskhand.customers.services import find_or_create_customer
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw
from deskhand.mail.models import InboundEmail, OutboundMessage
from deskhand.mail.services import create_mailbox
from deskhand.mail.tests.mails import make_mail

pytestmark = pytest.mark.django_db

ZOE = "zoe@acme-corp.example"


@pytest.fixture(autouse=True)
def support_address(db: Any) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)


def _sender(raw: bytes) -> str:
    found = re.search(rb"^From: .*<([^>]+)>", raw, re.MULTILINE)
    assert found is not None
    return found.group(1).decode()


def deliver(*raws: bytes) -> list[InboundEmail]:
    """The mails arrive by SMTP and are filed together, as one batch."""
    rows = [receive_raw(raw, process=False, transport="smtp", envelope_from=_sender(raw)) for raw in raws]
    process_ids([row.pk for row in rows])
    return list(InboundEmail.objects.filter(pk__in=[row.pk for row in rows]).order_by("id"))


def written_in(tag: str, raw: bytes | None = None) -> bytes:
    """A mail saying it is written in `tag` (EmailMessage drops content headers set before its body)."""
    return (raw or make_mail()).replace(b"\nSubject:", f"\nContent-Language: {tag}\nSubject:".encode(), 1)


def acknowledgement(to: str = ZOE) -> OutboundMessage:
    return OutboundMessage.objects.get(kind="acknowledgement", recipient_key=to)


def test_a_first_mail_in_canadian_french_makes_a_french_customer_and_a_french_acknowledgement() -> None:
    [inbound] = deliver(written_in("fr-CA"))
    assert inbound.status == "processed", inbound.reason
    assert Customer.objects.get(email=ZOE).language == "fr"
    ack = acknowledgement()
    assert f"[#{inbound.item_id}] Nous avons bien reçu votre demande\u00a0: Printer on floor 2 is offline" == ack.subject
    assert ack.body_text.startswith("Bonjour Zoë Müller,\n\nNous avons bien reçu votre demande « Printer on floor 2"
                                    .replace("« ", "«\u00a0"))
    assert "Ceci est un message automatique." in ack.body_text and "Ceci est un message automatique." in ack.body_html
    assert "We received" not in ack.body_text + ack.subject


def test_an_existing_language_is_never_replaced() -> None:
    customer, _new = find_or_create_customer(ZOE, name="Zoë", language="de", source=Source.AGENT, actor=SYSTEM)
    deliver(written_in("es-ES"))
    customer.refresh_from_db()
    assert customer.language == "de"
    assert acknowledgement().subject.endswith("Wir haben Ihre Anfrage erhalten: Printer on floor 2 is offline")


def test_a_customer_without_a_language_learns_it_from_their_next_mail() -> None:
    customer, _new = find_or_create_customer(ZOE, name="Zoë", source=Source.AGENT, actor=SYSTEM)
    assert customer.language == ""
    deliver(written_in("nb-NO"))
    customer.refresh_from_db()
    assert customer.language == "nb"
    assert "Vi har mottatt henvendelsen din" in acknowledgement().body_text


def test_a_language_we_do_not_ship_is_ignored_and_the_mail_is_english() -> None:
    deliver(written_in("it-IT"))
    assert Customer.objects.get(email=ZOE).language == ""
    assert "We received your request" in acknowledgement().subject


def test_the_first_supported_of_several_languages_counts() -> None:
    deliver(written_in("it, hr-HR"))
    assert Customer.objects.get(email=ZOE).language == "hr"
    assert acknowledgement().body_text.startswith("Dobar dan, Zoë Müller,\n\nzaprimili smo Vaš zahtjev")


def test_the_language_of_a_text_part_counts_when_the_mail_has_none() -> None:
    raw = make_mail(html="<p>Der Drucker druckt nicht.</p>").replace(
        b"Content-Type: text/plain", b"Content-Language: de-AT\nContent-Type: text/plain", 1)
    deliver(raw)
    assert Customer.objects.get(email=ZOE).language == "de"


def test_a_batch_writes_each_acknowledgement_in_its_senders_language() -> None:
    deliver(written_in("es"),
            written_in("hr", make_mail(sender="Ivana <ivana@globex.example>")),
            make_mail(sender="Ola <ola@globex.example>"))
    assert acknowledgement().subject.endswith("Hemos recibido su solicitud: Printer on floor 2 is offline")
    assert "Zaprimili smo Vaš zahtjev" in acknowledgement("ivana@globex.example").subject
    assert "We received your request" in acknowledgement("ola@globex.example").subject
    assert dict(Customer.objects.values_list("email", "language")) == {
        ZOE: "es", "ivana@globex.example": "hr", "ola@globex.example": ""}


def test_a_refused_mail_is_explained_in_the_language_it_was_written_in() -> None:
    update_settings({"attachment_max_bytes": 1000}, actor=SYSTEM)
    [inbound] = deliver(written_in("de-CH", make_mail(
        attachments=[("big.bin", b"x" * 5000, "application/octet-stream")])))
    assert inbound.status == "failed"
    notice = OutboundMessage.objects.get(kind="rejected")
    assert notice.subject == "Ihre Nachricht konnte nicht erfasst werden: Printer on floor 2 is offline"
    assert "ist bei uns angekommen, konnte aber nicht als Anfrage erfasst werden" in notice.body_text
    assert "big.bin" in notice.body_text  # the reason itself, as the pipeline wrote it
    assert not Customer.objects.exists()
