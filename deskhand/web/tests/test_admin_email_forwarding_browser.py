"""Setting up forwarding in a real browser: the guide's tabs by mouse and keyboard, the declared
address, a test mail, and Gmail's confirmation mail shown with its link and code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw
from deskhand.mail.models import NeverFollow, OutboundMessage
from deskhand.mail.services import create_mailbox
from deskhand.mail.tests.test_forwarding import fixture
from deskhand.testing.browsing import shot, signed_in_page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1280, "height": 900})


def test_an_admin_sets_up_forwarding_from_gmail(page: Page) -> None:
    create_mailbox(address="support@deskhand.test", name="Support", actor=SYSTEM)
    inbound = receive_raw(fixture("gmail_forwarding_confirmation.eml"), process=False, transport="smtp",
                          envelope_from="forwarding-noreply@google.com", envelope_to=["support@deskhand.test"])
    process_ids([inbound.pk])

    page.goto("/admin/email")
    forwarding = page.locator("#forwarding")
    expect(forwarding.get_by_role("heading", name="Set up forwarding")).to_be_visible()

    page.get_by_label("Address you forward from").fill("support@yourcompany.com")
    page.get_by_role("button", name="Save forwarding address").click()
    expect(page.get_by_text("support@yourcompany.com is never added as a follower")).to_be_visible()
    assert NeverFollow.objects.filter(address="support@yourcompany.com").exists()

    gmail = page.get_by_role("tab", name="Gmail / Google Workspace")
    expect(gmail).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Gmail / Google Workspace")).to_contain_text(
        "Add a forwarding address, enter support@deskhand.test")
    expect(page.locator("#guide-outlook")).to_be_hidden()
    gmail.focus()
    page.keyboard.press("ArrowRight")
    outlook = page.get_by_role("tab", name="Outlook / Microsoft 365")
    expect(outlook).to_be_focused()
    expect(outlook).to_have_attribute("aria-selected", "true")
    expect(page.locator("#guide-outlook")).to_contain_text("Manage email forwarding")
    expect(page.locator("#guide-gmail")).to_be_hidden()
    page.get_by_role("tab", name="Other mail server").click()
    expect(page.locator("#guide-server")).to_contain_text("127.0.0.1:2525")
    page.get_by_role("tab", name="Gmail / Google Workspace").click()

    confirmations = page.locator("#forwarding-confirmations")
    link = confirmations.get_by_role("link", name="Confirm forwarding from support@yourcompany.com")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("href", "https://mail-settings.google.com/mail/vf-%5BANGjdJ8wS7Ys-dWr0bbQ5K1LRNUg7p"
                                           "WUfxz9HCg3A8s2bNVrE%5D-ZuWJbXtrr1XY1FzwYMa9qkGd3Rc")
    expect(confirmations).to_contain_text("538827133")
    expect(confirmations).to_contain_text("Gmail / Google Workspace")

    page.get_by_role("button", name="Send a test mail").click()
    expect(page.locator("#forwarding-test")).to_contain_text("Sent to support@yourcompany.com at")
    assert OutboundMessage.objects.filter(kind="forwarding_test", to=["support@yourcompany.com"]).exists()
    page.locator("#forwarding").scroll_into_view_if_needed()
    shot(page, "admin-email-setup")
