"""Which language a request is answered in: the languages we ship read from any tag (`de-AT`,
`fr_CA`, `no`), the agent's own language on the agents' pages (else the browser's, among the
agents' languages), and addresses and domains shown in Unicode."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from deskhand.agents.models import Agent
from deskhand.core.i18n import browser_language, first_supported, supported_language
from deskhand.core.templatetags.idn import display_address


@pytest.mark.parametrize(("tag", "code"), [
    ("de", "de"), ("de-AT", "de"), ("DE_ch", "de"), (" fr-CA ", "fr"), ("nb-NO", "nb"), ("no", "nb"), ("nn", "nb"),
    ("hr-HR", "hr"), ("es-419", "es"), ("en-GB", "en"), ("it", ""), ("", ""), ("x" * 100, ""), ("sr-Latn", ""),
])
def test_a_tag_is_read_as_a_language_we_ship(tag: str, code: str) -> None:
    assert supported_language(tag) == code


def test_a_list_gives_its_first_supported_language() -> None:
    assert first_supported("it, pt-BR, hr") == "hr"
    assert first_supported("it") == ""


def test_the_browser_language_is_the_most_preferred_we_ship() -> None:
    request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE="it-IT,it;q=0.9,fr;q=0.8,de;q=0.7")
    assert browser_language(request) == "fr"
    assert browser_language(request, ("en", "de")) == "de"
    assert browser_language(RequestFactory().get("/")) == ""


def test_agents_pages_take_the_agents_language(agent: Agent, agent_client: Client) -> None:
    agent.language = "de"
    agent.save(update_fields=["language"])
    response = agent_client.get("/customers", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert response["Content-Language"] == "de" and '<html lang="de">' in response.content.decode()
    assert "Accept-Language" in response["Vary"]


def test_without_one_the_browsers_language_among_the_agents_languages(agent_client: Client) -> None:
    german = agent_client.get("/customers", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert german["Content-Language"] == "de"
    croatian = agent_client.get("/customers", HTTP_ACCEPT_LANGUAGE="hr")  # not translated for agents: English
    assert croatian["Content-Language"] == "en" and '<html lang="en">' in croatian.content.decode()


def test_the_sign_in_page_follows_the_browser(client: Client, db: Any) -> None:
    response = client.get("/login", HTTP_ACCEPT_LANGUAGE="de")
    assert '<html lang="de">' in response.content.decode()


@pytest.mark.parametrize(("stored", "shown"), [
    ("ana@xn--bcher-kva.de", "ana@bücher.de"),
    ("xn--bcher-kva.de", "bücher.de"),
    ("info@xn--e1afmkfd.com", "info@пример.com"),
    ("ana@acme.example", "ana@acme.example"),
    ("Xn--Text with spaces", "Xn--Text with spaces"),
    ("bad@xn--zz.de", "bad@xn--zz.de"),
])
def test_addresses_and_domains_are_shown_in_unicode(stored: str, shown: str) -> None:
    assert display_address(stored) == shown


def test_the_filter_is_in_every_template() -> None:
    rendered = Template("{{ email|idn }} {{ missing|idn|default:'—' }}").render(Context({"email": "a@xn--bcher-kva.de"}))
    assert rendered == "a@bücher.de —"


def test_a_german_agents_charts_keep_numbers_the_browser_reads(agent: Agent, agent_client: Client) -> None:
    """Localised pages write 94,5 for people; an SVG coordinate must stay 94.5."""
    from deskhand.core.actors import Actor
    from deskhand.work.inputs import ItemDraft
    from deskhand.work.services.items import submit_ticket

    for number in range(7):
        submit_ticket(ItemDraft(title=f"T{number}", requester_email=f"c{number}@acme.example"), actor=Actor.agent(agent))
    agent.language = "de"
    agent.save(update_fields=["language"])
    for url in ("/dashboard", "/reports", "/reports/satisfaction"):
        response = agent_client.get(url)
        assert response.status_code == 200 and response["Content-Language"] == "de", url
        assert not re.search(r'\b(?:width|height|x|y|cx|cy|x1|y1|x2|y2|viewBox)="[^"]*\d,\d', response.content.decode()), url
