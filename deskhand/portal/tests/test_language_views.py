"""The portal's language: the signed-in customer's own, else the one picked with the footer's
switcher in this browser, else the browser's; a customer without one learns it from their browser.
The survey page speaks the customer's language, dates read as the language writes them, and the
error pages a customer meets are in their language too."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from deskhand.accounts.models import CustomerAccount
from deskhand.audit.models import AuditEvent
from deskhand.core.actors import Actor
from deskhand.customers.models import Customer
from deskhand.mail.models import OutboundMessage
from deskhand.portal.tests.conftest import PASSWORD
from deskhand.surveys.models import SurveyRequest
from deskhand.surveys.services import send_surveys
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item, Message, MessageKind
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import add_message

pytestmark = pytest.mark.django_db
Portal = Callable[[CustomerAccount], Client]


def html(response: Any) -> str:
    return str(response.content.decode())


def speak(account: CustomerAccount, language: str) -> None:
    Customer.objects.filter(pk=account.customer_id).update(language=language)
    account.customer.language = language


@pytest.mark.parametrize(("accept", "lang", "words"), [
    ("de-DE,de;q=0.9,en;q=0.5", "de", "Beim Support anmelden"),
    ("fr-CA", "fr", "Connexion à l’assistance"),
    ("hr", "hr", "Prijava na podršku"),
    ("es", "es", "Iniciar sesión en Asistencia"),
    ("nb-NO,no;q=0.8", "nb", "Logg inn hos kundestøtte"),
    ("it-IT", "en", "Sign in to Support"),
])
def test_a_visitor_sees_the_portal_in_their_browsers_language(client: Client, accept: str, lang: str,
                                                               words: str) -> None:
    response = client.get("/portal/login", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 200
    assert words in html(response) and f'<html lang="{lang}">' in html(response)
    assert response["Content-Language"] == lang and "Accept-Language" in response["Vary"]


def test_a_signed_in_customer_sees_their_own_language(make_customer: Callable[..., CustomerAccount],
                                                      portal_client: Portal) -> None:
    account = make_customer("ivo@acme.example")
    speak(account, "hr")
    client = portal_client(account)
    page = html(client.get("/portal/", HTTP_ACCEPT_LANGUAGE="de"))
    assert '<html lang="hr">' in page and "Zahtjevi" in page and "Novi zahtjev" in page and "Odjava" in page
    assert 'aria-current="true">Hrvatski</button>' in page


def test_a_customer_without_a_language_learns_their_browsers(make_customer: Callable[..., CustomerAccount],
                                                             portal_client: Portal) -> None:
    account = make_customer("eva@acme.example")
    speak(account, "")
    client = portal_client(account)
    page = html(client.get("/portal/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9"))
    assert "Sus solicitudes" in page
    assert Customer.objects.get(pk=account.customer_id).language == "es"
    assert AuditEvent.objects.filter(action="portal.language_learnt", object_id=account.customer_id).exists()
    client.get("/portal/", HTTP_ACCEPT_LANGUAGE="fr")  # learnt once: a later browser changes nothing
    assert Customer.objects.get(pk=account.customer_id).language == "es"


def test_the_switcher_saves_the_customers_language(make_customer: Callable[..., CustomerAccount],
                                                   portal_client: Portal, agent: Any) -> None:
    account = make_customer("ola@acme.example")
    speak(account, "de")
    client = portal_client(account)
    page = html(client.get("/portal/"))
    assert re.search(r'<button type="submit" name="language" value="nb" lang="nb" class="link">Norsk \(bokmål\)',
                     page)
    response = client.post("/portal/language", {"language": "nb", "next": "/portal/?tab=mine"})
    assert response.status_code == 302 and response["Location"] == "/portal/?tab=mine"
    assert Customer.objects.get(pk=account.customer_id).language == "nb"
    assert response.cookies["django_language"].value == "nb"
    entry = AuditEvent.objects.get(action="portal.language_set", object_id=account.customer_id)
    assert entry.changes == {"language": ["de", "nb"]}
    assert "Dine henvendelser" in html(client.get("/portal/", HTTP_ACCEPT_LANGUAGE="de"))
    # Their next mail is Norwegian too.
    customer = Customer.objects.get(pk=account.customer_id)
    item = submit_ticket(ItemDraft(title="Faktura", requester=customer), actor=Actor.customer(customer.email))
    add_message(item, kind=MessageKind.REPLY, body="Takk!", actor=Actor.agent(agent))
    assert "Svar på denne e-posten" in OutboundMessage.objects.get(kind="reply").body_text


def test_a_visitor_s_choice_is_kept_in_their_browser(client: Client) -> None:
    response = client.post("/portal/language", {"language": "fr", "next": "/portal/login"},
                           HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 302 and response["Location"] == "/portal/login"
    assert "Connexion à l’assistance" in html(client.get("/portal/login", HTTP_ACCEPT_LANGUAGE="de"))
    assert not Customer.objects.exists()


@pytest.mark.parametrize(("data", "location"), [
    ({"language": "it", "next": "/portal/login"}, "/portal/login"),
    ({"language": "de", "next": "https://evil.example/portal/"}, "/portal/"),
    ({"language": "de", "next": "//evil.example/portal/"}, "/portal/"),
    ({"language": "de", "next": "/settings"}, "/portal/"),
])
def test_a_language_we_do_not_offer_or_a_strange_return_address_goes_nowhere(client: Client, data: dict[str, str],
                                                                           location: str) -> None:
    response = client.post("/portal/language", data)
    assert response.status_code == 302 and response["Location"] == location
    assert ("django_language" in response.cookies) == (data["language"] == "de")


def test_a_signed_in_customer_cannot_save_a_language_we_do_not_offer(
        make_customer: Callable[..., CustomerAccount], portal_client: Portal) -> None:
    account = make_customer("uwe@acme.example")
    speak(account, "de")
    response = portal_client(account).post("/portal/language", {"language": "x" * 40})
    assert response.status_code == 302 and "django_language" not in response.cookies
    assert Customer.objects.get(pk=account.customer_id).language == "de"


def test_the_switcher_needs_the_forms_token(make_customer: Callable[..., CustomerAccount]) -> None:
    account = make_customer("tom@acme.example")
    client = Client(enforce_csrf_checks=True)
    client.post("/portal/login", {"email": account.customer.email, "password": PASSWORD})
    assert client.post("/portal/language", {"language": "fr"}).status_code == 403
    assert Customer.objects.get(pk=account.customer_id).language != "fr"


def test_registering_with_a_german_browser_makes_a_german_customer_and_mail(client: Client) -> None:
    response = client.post("/portal/register", {"email": "jan@acme.example", "name": "Jan", "password": PASSWORD},
                           HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.9")
    assert "Bitte prüfen Sie Ihr Postfach" in html(response)
    assert Customer.objects.get(email="jan@acme.example").language == "de"
    mail = OutboundMessage.objects.get(kind="portal_verify")
    assert mail.subject == "Bestätigen Sie Ihre Adresse"
    assert "Der Link funktioniert einmal und 3 Tage lang." in mail.body_text


def test_dates_read_as_the_language_writes_them(make_customer: Callable[..., CustomerAccount],
                                                portal_client: Portal) -> None:
    account = make_customer("kai@acme.example")
    speak(account, "de")
    client = portal_client(account)
    client.post("/portal/requests/new", {"title": "Drucker", "description": "Er druckt nicht."})
    item = Item.objects.get()
    moment = datetime.datetime(2026, 3, 9, 14, 5, tzinfo=datetime.UTC)
    Message.objects.filter(item=item).update(created_at=moment)
    Item.objects.filter(pk=item.pk).update(updated_at=moment)
    page = html(client.get(f"/portal/requests/{item.pk}"))
    assert "09.03.2026 14:05" in page
    assert "09.03.2026 14:05" in html(client.get("/portal/"))
    speak(account, "fr")
    assert "09/03/2026 14:05" in html(client.get("/portal/"))


def test_the_survey_page_speaks_the_customers_language(agent: Any) -> None:
    item = submit_ticket(ItemDraft(title="Drucker", requester_email="ana@acme.example"), actor=Actor.agent(agent))
    Customer.objects.filter(email="ana@acme.example").update(language="de")
    send_surveys(list(Item.objects.select_related("requester").filter(pk=item.pk)), actor=Actor.agent(agent))
    found = re.search(r"Gut: \S+(/surveys/\S+)", OutboundMessage.objects.get(kind="survey").body_text)
    assert found is not None
    survey = SurveyRequest.objects.get()
    SurveyRequest.objects.filter(pk=survey.pk).update(expires_at=datetime.datetime(2026, 12, 18, 12, tzinfo=datetime.UTC))
    client = Client()
    page = html(client.get(found.group(1), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Vielen Dank: Ihre Antwort „Gut“ ist gespeichert." in page
    assert "Sie können Ihre Antwort bis zum 18. Dezember 2026 ändern." in page
    client.cookies["django_language"] = "es"  # picked with the switcher in this browser: that wins
    assert "Puede cambiar su respuesta hasta el 18 de diciembre de 2026." in html(client.get(found.group(1)))
    assert timezone.now() < survey.expires_at


def test_a_customers_error_page_is_in_their_language_and_leads_to_the_portal(client: Client) -> None:
    response = client.get("/portal/requests/999999999", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302  # signed out: to the sign-in page first
    missing = client.get("/portal/no-such-page", HTTP_ACCEPT_LANGUAGE="hr")
    assert missing.status_code == 404
    page = html(missing)
    assert '<html lang="hr">' in page and "Nije pronađeno" in page
    assert 'href="/portal/">Idi na portal za podršku</a>' in page
    agents = client.get("/no-such-page", HTTP_ACCEPT_LANGUAGE="de")
    assert "Zur Startseite von Deskhand" in html(agents)
