"""Internationalised domains are stored as IDNA (`xn--bcher-kva.de`) and shown as people write
them (`bücher.de`): in the customer list, on the customer's and organization's pages, on a
ticket, and in the portal."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.models import Customer, Organization, Source
from deskhand.customers.services import create_organization, find_or_create_customer
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def books() -> tuple[Organization, Customer]:
    organization = create_organization("Bücherstube", domains=["bücher.de"], actor=SYSTEM)
    customer, _new = find_or_create_customer("ana@bücher.de", source=Source.AGENT, actor=SYSTEM)
    assert customer.email == "ana@xn--bcher-kva.de" and customer.organization == organization  # stored as today
    return organization, customer


def test_lists_and_pages_show_the_unicode_domain(agent_client: Client, books: tuple[Organization, Customer],
                                                 agent_actor: Actor) -> None:
    organization, customer = books
    pages = {
        "list": agent_client.get("/customers").content.decode(),
        "group": agent_client.get(reverse("web:customer-group", args=[organization.pk])).content.decode(),
        "customer": agent_client.get(f"/customers/{customer.pk}").content.decode(),
        "organization": agent_client.get(f"/organizations/{organization.pk}").content.decode(),
    }
    item = submit_ticket(ItemDraft(title="Lieferung", requester=customer), actor=agent_actor)
    pages["ticket"] = agent_client.get(f"/tickets/{item.pk}").content.decode()
    for name, html in pages.items():
        assert "bücher.de" in html, name
    assert "ana@bücher.de" in pages["group"] and "ana@bücher.de" in pages["customer"]
    assert "<h1>ana@bücher.de</h1>" in pages["customer"] and "<dd>ana@bücher.de</dd>" in pages["customer"]
    assert ">ana@bücher.de</a> ·" in pages["ticket"]
    for name in ("list", "group", "organization"):  # links and form values keep the stored form
        assert "xn--bcher-kva" not in re.sub(r'="[^"]*"', "", pages[name]), name


def test_the_portal_shows_the_customer_their_own_address_in_unicode(books: tuple[Organization, Customer]) -> None:
    from deskhand.accounts import services
    from deskhand.accounts.inputs import Registration
    from deskhand.testing.mail import last_link

    registered = services.register(Registration(email="ana@bücher.de", name="Ana", password="quiet-harbour-41"))
    services.verify(last_link("ana@xn--bcher-kva.de").rsplit("/", 1)[1], mark=registered.mark)
    client = Client()
    assert client.post("/portal/login", {"email": "ana@bücher.de", "password": "quiet-harbour-41"}).status_code == 302
    html = client.get("/portal/").content.decode()
    assert "ana@bücher.de" in html and "xn--" not in html
