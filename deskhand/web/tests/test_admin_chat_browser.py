"""Administration → Customer apps → Live chat in a real browser: an admin closes chat outside the
office's hours and shortens the accept timeout; the portal's chat page then offers "leave a message";
a bad timeout is refused with its reason and changes nothing."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.config.queries import get_settings
from deskhand.core.actors import SYSTEM
from deskhand.sla.inputs import HoursInput, PolicyInput, TargetInput
from deskhand.sla.services import create_policy
from deskhand.testing.browsing import close_context, shot, signed_in_page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1280, "height": 1000})


def test_an_admin_sets_up_live_chat(page: Page, browser: Browser, live_server: Any) -> None:
    # Business hours that never include now: a single weekday that is not today.
    tomorrow = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).weekday()
    office = create_policy(PolicyInput(name="Office", targets=[TargetInput(priority="normal", first_response_minutes=60)],
                              business_hours=HoursInput(days=[tomorrow])), actor=SYSTEM)

    page.goto("/admin/apps")
    section = page.locator("section", has=page.locator("#chat-title"))
    expect(section.get_by_label("Offer live chat")).to_be_checked()
    expect(section.get_by_label("Accept timeout (seconds)")).to_have_value("120")
    expect(section.get_by_label("Business hours")).to_have_value("")
    expect(section.locator("#chat-now")).to_have_text("Right now customers can start a chat.")

    section.get_by_label("Accept timeout (seconds)").fill("45")
    section.get_by_label("Business hours").select_option(label="Office")
    section.get_by_role("button", name="Save live chat").click()
    expect(page.locator("#messages")).to_contain_text("Live chat saved.")
    section = page.locator("section", has=page.locator("#chat-title"))
    expect(section.get_by_label("Accept timeout (seconds)")).to_have_value("45")
    expect(section.get_by_label("Business hours")).to_have_value(str(office.pk))
    expect(section.locator("#chat-now")).to_have_text("Right now customers can only leave a message.")
    section.scroll_into_view_if_needed()
    shot(page, "admin-chat-saved")
    values = get_settings()
    assert values["chat_accept_seconds"] == 45 and values["chat_hours_policy"] == office.pk

    # A customer on the portal's chat page sees it applied.
    customer_context = browser.new_context(base_url=live_server.url)
    customer = customer_context.new_page()
    customer.set_default_timeout(10_000)
    customer.goto("/portal/chat")
    expect(customer.locator("#chat-availability")).to_have_text(
        "We are not online right now. Leave a message and we will answer by email.")
    expect(customer.get_by_role("button", name="Leave a message")).to_be_visible()
    close_context(customer_context)

    # A timeout out of range: the browser's own check is bypassed, the server says why and keeps 45.
    field = section.get_by_label("Accept timeout (seconds)")
    field.evaluate("element => element.removeAttribute('min')")
    field.fill("5")
    section.get_by_role("button", name="Save live chat").click()
    expect(page.locator("#messages")).to_contain_text("The accept timeout is a whole number of seconds from 10 to 86400.")
    expect(page.locator("#messages")).not_to_contain_text("Live chat saved.")
    section = page.locator("section", has=page.locator("#chat-title"))
    expect(section.get_by_label("Accept timeout (seconds)")).to_have_value("45")
    assert get_settings()["chat_accept_seconds"] == 45
    shot(page, "admin-chat-error")
