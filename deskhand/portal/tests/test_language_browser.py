"""A German customer in a real browser (Chromium asking for de-DE): the portal speaks German from
the first page, the verification mail is German, the request pages show German dates, and the
footer's switcher turns the portal (and the customer's mails) French."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from deskhand.customers.models import Customer
from deskhand.mail.models import OutboundMessage
from deskhand.portal.tests.conftest import PASSWORD, last_link
from deskhand.testing.browsing import close_context, launch_chromium, shot
from deskhand.work.models import Item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


def test_a_german_customer_registers_and_reads_german(browser: Browser, live_server: Any) -> None:
    context = browser.new_context(base_url=live_server.url, locale="de-DE", timezone_id="Europe/Berlin",
                                  viewport={"width": 1100, "height": 760})
    page = context.new_page()
    page.set_default_timeout(10_000)

    page.goto("/portal/login")
    expect(page.get_by_role("heading", name="Beim Support anmelden")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_role("link", name="Konto anlegen").click()
    page.get_by_label("E-Mail").fill("lena@beispiel.example")
    page.get_by_label("Name").fill("Lena Schäfer")
    page.get_by_label("Passwort").fill(PASSWORD)
    shot(page, "portal-de-register")
    page.get_by_role("button", name="Konto anlegen").click()
    expect(page.get_by_role("status")).to_contain_text("Wir haben eine E-Mail an lena@beispiel.example gesendet.")
    shot(page, "portal-de-check-your-mail")

    assert Customer.objects.get(email="lena@beispiel.example").language == "de"
    mail = OutboundMessage.objects.get(kind="portal_verify")
    assert mail.subject == "Bestätigen Sie Ihre Adresse"
    assert mail.body_text.startswith("Guten Tag,\n\nbitte bestätigen Sie, dass dies Ihre Adresse ist")
    assert "Der Link funktioniert einmal und 3 Tage lang." in mail.body_text
    assert "Adresse bestätigen</a>" in mail.body_html

    page.goto(last_link("lena@beispiel.example"))
    expect(page.get_by_role("heading", name="Anfragen")).to_be_visible()
    expect(page.get_by_text("Noch keine Anfragen.")).to_be_visible()
    page.get_by_role("link", name="Neue Anfrage").first.click()
    page.get_by_label("Titel").fill("Rechnung doppelt abgebucht")
    page.get_by_label("Beschreibung").fill("Die Rechnung vom März wurde zweimal abgebucht.")
    shot(page, "portal-de-new-request")
    page.get_by_role("button", name="Anfrage absenden").click()
    expect(page.get_by_role("heading", name="Rechnung doppelt abgebucht")).to_be_visible()
    item = Item.objects.get()
    expect(page.get_by_text(f"{item.reference}, gestellt von Lena Schäfer")).to_be_visible()
    expect(page.get_by_role("button", name="Als gelöst markieren")).to_be_visible()
    # In the browser's own time zone (the portal knows none), as German writes a short date and time.
    local = item.created_at.astimezone(ZoneInfo("Europe/Berlin"))
    expect(page.locator("time").first).to_have_text(local.strftime("%d.%m.%y, %H:%M"))
    expect(page.locator("time").first).to_have_attribute("title", item.created_at.strftime("%d.%m.%Y %H:%M UTC"))
    shot(page, "portal-de-request")

    page.get_by_role("group", name="Sprache").get_by_role("button", name="Français").click()
    expect(page.get_by_role("button", name="Marquer comme résolue")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert Customer.objects.get(email="lena@beispiel.example").language == "fr"
    page.get_by_role("link", name="Demandes").first.click()
    expect(page.get_by_role("heading", name="Demandes")).to_be_visible()
    shot(page, "portal-de-switched-to-french")
    close_context(context)
