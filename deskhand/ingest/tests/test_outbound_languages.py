"""Mail to a customer is written in the customer's language (`Customer.language`): the
acknowledgement, an agent's reply, the survey and the portal's mails, subject and body; no
language, or one we do not ship, is English. A batch switches language per mail."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.accounts import services as accounts
from deskhand.accounts.inputs import Registration
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.models import Customer, Source
from deskhand.customers.services import find_or_create_customer
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw
from deskhand.mail.models import OutboundMessage
from deskhand.mail.outbound import build_mail, requester_languages
from deskhand.mail.services import create_mailbox
from deskhand.mail.tests.mails import make_mail
from deskhand.surveys.services import send_surveys
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item, MessageKind
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import add_message

pytestmark = pytest.mark.django_db


def customer(email: str, language: str) -> Customer:
    found, _new = find_or_create_customer(email, name="Jana Horvat", language=language, source=Source.AGENT,
                                          actor=SYSTEM)
    return found


def mail(kind: str) -> OutboundMessage:
    return OutboundMessage.objects.filter(kind=kind).latest("id")


def test_a_german_customer_gets_the_acknowledgement_the_reply_and_the_survey_in_german(agent_actor: Actor) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    customer("zoe@acme-corp.example", "de")
    raw = make_mail()  # it says nothing of its language: the customer's counts
    process_ids([receive_raw(raw, process=False, transport="smtp", envelope_from="zoe@acme-corp.example").pk])
    item = Item.objects.get()

    ack = mail("acknowledgement")
    assert ack.subject == f"[#{item.pk}] Wir haben Ihre Anfrage erhalten: Printer on floor 2 is offline"
    assert ack.body_text.startswith("Guten Tag Jana Horvat,\n\nwir haben Ihre Anfrage „Printer on floor 2 is offline“ "
                                    f"erhalten und unter #{item.pk} erfasst.")
    assert "Dies ist eine automatisch versendete Nachricht." in ack.body_html

    add_message(item, kind=MessageKind.REPLY, body="Der Drucker ist repariert.", actor=agent_actor)
    reply = mail("reply")
    assert reply.subject == f"[#{item.pk}] Printer on floor 2 is offline"
    assert f"Antworten Sie auf diese E-Mail, um Ihrer Anfrage #{item.pk} etwas hinzuzufügen." in reply.body_text
    assert f"Antworten Sie auf diese E-Mail, um Ihrer Anfrage #{item.pk} etwas hinzuzufügen." in reply.body_html

    send_surveys([item], actor=agent_actor)
    survey = mail("survey")
    assert survey.subject == f"[#{item.pk}] Wie zufrieden waren Sie? Printer on floor 2 is offline"
    assert "ist erledigt. Wie zufrieden waren Sie mit uns? Ein Klick genügt:" in survey.body_text
    assert "Gut: http" in survey.body_text and "Schlecht: http" in survey.body_text
    assert "noch 14 Tage lang ändern" in survey.body_text and ">Okay</a>" in survey.body_html
    for row in (ack, reply, survey):
        assert "Hello" not in row.body_text and "This is an automatic message" not in row.body_text
        assert build_mail(row)["Content-Language"] == "de"


def test_no_language_or_an_unknown_one_is_english(agent_actor: Actor) -> None:
    for email, language in (("ana@acme.example", ""), ("ugo@acme.example", "it")):
        item = submit_ticket(ItemDraft(title="Login", requester=customer(email, language)), actor=agent_actor)
        add_message(item, kind=MessageKind.REPLY, body="Try again now.", actor=agent_actor)
        assert f"Reply to this mail to add to request #{item.pk}." in mail("reply").body_text
        assert build_mail(mail("reply"))["Content-Language"] is None


def test_a_batch_of_surveys_is_written_per_customer(agent_actor: Actor) -> None:
    languages = ["hr", "fr", "es", "nb", "de", ""]
    items = [submit_ticket(ItemDraft(title=f"Request {n}", requester=customer(f"c{n}@acme.example", language)),
                           actor=agent_actor) for n, language in enumerate(languages)]
    send_surveys(list(Item.objects.select_related("requester").filter(pk__in=[i.pk for i in items])),
                 actor=agent_actor)
    subjects = {row.to[0]: row.subject for row in OutboundMessage.objects.filter(kind="survey")}
    assert subjects == {
        "c0@acme.example": f"[#{items[0].pk}] Koliko ste zadovoljni? Request 0",
        "c1@acme.example": f"[#{items[1].pk}] Votre avis nous intéresse\u00a0: Request 1",
        "c2@acme.example": f"[#{items[2].pk}] ¿Qué tal lo hemos hecho? Request 2",
        "c3@acme.example": f"[#{items[3].pk}] Hvordan gjorde vi det? Request 3",
        "c4@acme.example": f"[#{items[4].pk}] Wie zufrieden waren Sie? Request 4",
        "c5@acme.example": f"[#{items[5].pk}] How did we do? Request 5",
    }
    croatian = OutboundMessage.objects.get(kind="survey", recipient_key="c0@acme.example").body_text
    assert "mijenjati svoj odgovor još 14 dana." in croatian and "Dobro: http" in croatian


def test_the_requesters_languages_are_read_once_for_a_batch(agent_actor: Actor,
                                                            django_assert_num_queries: Any) -> None:
    items = [submit_ticket(ItemDraft(title="A", requester=customer(f"b{n}@acme.example", "fr")), actor=agent_actor)
             for n in range(3)]
    fresh = list(Item.objects.filter(pk__in=[i.pk for i in items]))  # requesters not loaded
    with django_assert_num_queries(1):
        assert set(requester_languages(fresh).values()) == {"fr"}
    with django_assert_num_queries(0):
        assert set(requester_languages(items).values()) == {"fr"}  # loaded already


def test_the_portals_mails_are_in_the_customers_language() -> None:
    accounts.register(Registration(email="ivo@acme.example", name="Ivo", password="quiet-harbour-41", language="hr"))
    verify = mail("portal_verify")
    assert verify.subject == "Potvrdite svoju adresu"
    assert "Poveznica se može upotrijebiti jednom i vrijedi 3 dana." in verify.body_text
    accounts.send_link("ivo@acme.example", accounts.Purpose.SIGN_IN)
    sign_in = mail("portal_sign_in")
    assert sign_in.subject == "Vaša poveznica za prijavu"
    assert "vrijedi 30 minuta. Ako je niste zatražili, zanemarite ovu poruku." in sign_in.body_text
    accounts.send_link("ivo@acme.example", accounts.Purpose.RESET)
    assert "vrijedi 2 sata. Ako je niste zatražili" in mail("portal_reset").body_text  # hours under two days
    accounts.invite(Customer.objects.get(email="ivo@acme.example"), actor=SYSTEM)
    assert "Poveznica se može upotrijebiti jednom i vrijedi 14 dana." in mail("portal_invite").body_text
