"""Small things of issue 15: the favicon, the customers page's open/close affordance, and names
whose direction controls would reverse the text after them."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from deskhand.core.actors import SYSTEM
from deskhand.core.bidi import without_direction_controls
from deskhand.customers.models import Customer, Organization, Source
from deskhand.customers.services import create_organization, find_or_create_customer
from deskhand.mail.services import create_mailbox
from deskhand.web.tests.test_item_mail import deliver, make_raw

pytestmark = pytest.mark.django_db

RLO, LRI, PDI, RLM = "\u202e", "\u2066", "\u2069", "\u200f"


@pytest.mark.parametrize(("text", "shown"), [
    (f"Carl{RLO}gnp.exe", "Carlgnp.exe"), (f"{LRI}Ana{PDI}", "Ana"), (f"Sara{RLM}", "Sara"),
    ("\u202a\u202b\u202c\u202d\u2067\u2068x", "x"), ("שלום Acme", "שלום Acme"), ("", ""),
])
def test_direction_controls_are_dropped_and_the_text_kept(text: str, shown: str) -> None:
    assert without_direction_controls(text) == shown


def test_names_with_direction_overrides_are_neutralised_in_display(agent_client: Client) -> None:
    evil = create_organization(f"Acme{RLO}cod.exe", actor=SYSTEM)
    carl, _ = find_or_create_customer("carl@acme.example", name=f"Carl{RLO}gnp.exe", organization=evil,
                                      source=Source.AGENT, actor=SYSTEM)
    assert carl.display_name == "Carlgnp.exe"
    for path in ("/customers", f"/customers/{carl.pk}", f"/organizations/{evil.pk}"):
        # An edit box shows the name as stored (its text cannot spill out of the box); the page does not.
        page = re.sub(r"<input [^>]*>", "", agent_client.get(path).content.decode())
        assert RLO not in page, path
        assert "Acmecod.exe" in page, path
    assert Customer.objects.get(pk=carl.pk).name == f"Carl{RLO}gnp.exe"  # stored as given
    assert Organization.objects.get(pk=evil.pk).name == f"Acme{RLO}cod.exe"


def test_a_mail_from_name_with_an_override_is_neutralised_for_agents(agent_client: Client) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    inbound = deliver(make_raw(sender=f'"Zo{RLO}e Evil" <zoe@acme.example>'))
    page = agent_client.get(f"/tickets/{inbound.item_id}").content.decode()
    assert RLO not in page and "Zoe Evil" in page


def test_the_favicon_is_linked_and_favicon_ico_does_not_404(agent_client: Client, client: Client) -> None:
    for page in (agent_client.get("/customers"), client.get("/login"), client.get("/portal/login")):
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and b"<svg" in b"".join(icon.streaming_content)  # type: ignore[attr-defined]


def test_organization_groups_say_whether_they_are_open(agent_client: Client) -> None:
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    page = agent_client.get("/customers").content.decode()
    assert '<summary class="group-header" aria-expanded="true">' in page  # No organization starts open
    assert (f'<details class="group" data-group="{acme.pk}">\n      <summary class="group-header" aria-expanded="false"'
            in page)
    assert page.count('<span class="disclosure" aria-hidden="true"></span>') == 2
