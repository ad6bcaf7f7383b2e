"""The agents' app in German, in a real browser: an agent whose profile says German reads the ticket
list, a ticket, the reports and Administration in German, while the numbers the browser reads
(SVG coordinates) stay plain."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.core.actors import Actor
from deskhand.testing.browsing import shot, signed_in_page
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import add_message

pytestmark = pytest.mark.django_db(transaction=True)

# Texts of the English app that must not show on a German page (buttons, headings, menus).
ENGLISH = ["Save view", "Sign out", "Skip to content", "Customers", "Reports", "Role and teams", "Internal note",
           "Send reply", "Properties", "History", "Created and solved per day", "Invite an agent", "Clear filters"]


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    admin.language = "de"
    admin.save(update_fields=["language"])
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1360, "height": 860})


def _no_english(page: Page) -> None:
    text = page.locator("body").inner_text()
    left = [phrase for phrase in ENGLISH if phrase in text]
    assert not left, f"English on a German page: {left}"
    assert page.locator("html").get_attribute("lang") == "de"


def test_a_german_agent_works_in_german(page: Page, admin: Agent, agent: Agent) -> None:
    ticket = submit_ticket(ItemDraft(title="Drucker druckt nicht", requester_email="zoe@acme.example",
                                     description="Seit heute Morgen kommt nichts mehr aus dem Drucker."),
                           actor=Actor.agent(agent))
    add_message(ticket, kind="note", body="Ich schaue mir das an.", actor=Actor.agent(admin))

    page.goto("/tickets")
    expect(page.get_by_role("link", name="Tickets", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Kunden", exact=True)).to_be_visible()
    expect(page.get_by_text("Ansicht speichern", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Neues Ticket")).to_be_visible()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    expect(page.get_by_role("link", name="Drucker druckt nicht")).to_be_visible()
    _no_english(page)
    shot(page, "agent-de-tickets")

    page.goto(f"/tickets/{ticket.pk}")
    expect(page.get_by_role("heading", name="Eigenschaften")).to_be_visible()
    expect(page.get_by_role("heading", name="Verlauf")).to_be_visible()
    expect(page.get_by_role("button", name="Antwort senden")).to_be_visible()
    expect(page.get_by_text("Interne Notiz").first).to_be_visible()
    expect(page.get_by_text("Ich schaue mir das an.")).to_be_visible()
    history = page.locator("#history")
    expect(history).to_contain_text("Ana Agent hat das Ticket für zoe@acme.example angelegt.")
    expect(history).to_contain_text("Ada Admin hat eine interne Notiz hinzugefügt.")
    _no_english(page)
    shot(page, "agent-de-ticket")

    page.get_by_label("Interne Notiz").fill("Toner ist leer.")
    page.get_by_role("button", name="Notiz hinzufügen").click()
    expect(page.get_by_role("status").filter(has_text="Notiz hinzugefügt.")).to_be_visible()

    page.goto("/reports")
    expect(page.get_by_role("heading", name="Angelegt und erledigt pro Tag")).to_be_visible()
    expect(page.get_by_role("link", name="CSV herunterladen").first).to_be_visible()
    _no_english(page)
    # The browser reads these as numbers: a German decimal comma would break the chart.
    for points in page.locator("svg polyline").evaluate_all("lines => lines.map(l => l.getAttribute('points'))"):
        assert "," in points and not re.search(r"\d,\d+,", points), points
        assert all(re.fullmatch(r"-?\d+(\.\d+)?,-?\d+(\.\d+)?", pair) for pair in points.split()), points
    shot(page, "agent-de-reports")

    page.goto("/admin/agents")
    expect(page.get_by_role("heading", name="Bearbeiter einladen")).to_be_visible()
    expect(page.get_by_role("button", name="Einladung senden")).to_be_visible()
    expect(page.get_by_role("navigation", name="Administration").get_by_role("link", name="Teams")).to_be_visible()
    _no_english(page)
    shot(page, "agent-de-admin")


def test_an_english_agent_keeps_the_english_app(browser: Browser, live_server: Any, agent: Agent) -> None:
    for page in signed_in_page(browser, live_server, email=agent.email):
        page.goto("/tickets")
        expect(page.get_by_role("link", name="Customers", exact=True)).to_be_visible()
        expect(page.get_by_text("Save view", exact=True)).to_be_visible()
        assert page.locator("html").get_attribute("lang") == "en"
