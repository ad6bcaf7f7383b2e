"""The portal in a real browser, at desktop and phone width: a customer registers, opens the link
from the mail, submits a request with a file, replies and marks it solved; a colleague of the same
organization sees it under "My organization" when the rule allows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.customers.services import create_organization
from deskhand.portal.tests.conftest import PASSWORD, last_link
from deskhand.testing.browsing import launch_chromium, shot
from deskhand.work.models import Item, Message, MessageKind

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


def _page(browser: Browser, live_server: Any, width: str) -> Page:
    context = browser.new_context(base_url=live_server.url, viewport=WIDTHS[width])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def _register(page: Page, email: str, name: str, width: str, shots: bool) -> None:
    page.goto("/portal/register")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    if shots:
        shot(page, f"portal-register-{width}")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a mail to")
    page.goto(last_link(email))
    expect(page.get_by_role("heading", name="Requests")).to_be_visible()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_register_submit_reply_and_solve(browser: Browser, live_server: Any, width: str, tmp_path: Any) -> None:
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    update_settings({"portal_visibility": "organization"}, actor=SYSTEM)
    page = _page(browser, live_server, width)
    _register(page, "zoe@acme.example", "Zoë Example", width, shots=True)
    shot(page, f"portal-empty-{width}")
    page.get_by_role("link", name="New request").first.click()
    page.get_by_label("Title").fill("Printer on fire")
    page.get_by_label("Description").fill("It smokes since this morning.")
    photo = tmp_path / "photo.txt"
    photo.write_text("smoke")
    page.get_by_label("Attachments").set_input_files(str(photo))
    shot(page, f"portal-new-request-{width}")
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_role("heading", name="Printer on fire")).to_be_visible()
    expect(page.locator(".portal-conversation")).to_contain_text("It smokes since this morning.")
    expect(page.get_by_role("link", name="photo.txt")).to_be_visible()
    page.get_by_label("Your reply").fill("Now it stopped.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".portal-conversation")).to_contain_text("Now it stopped.")
    shot(page, f"portal-request-{width}")
    item = Item.objects.get(title="Printer on fire")
    assert item.organization == acme and Message.objects.filter(item=item, kind=MessageKind.CUSTOMER).count() == 2

    colleague = _page(browser, live_server, width)
    _register(colleague, "ann@acme.example", "Ann Example", width, shots=False)
    colleague.get_by_role("link", name="My organization").click()
    expect(colleague.get_by_role("link", name="Printer on fire")).to_be_visible()
    shot(colleague, f"portal-list-{width}")
    colleague.get_by_role("link", name="Printer on fire").click()
    colleague.get_by_role("button", name="Follow").click()
    expect(colleague.get_by_role("button", name="Unfollow")).to_be_visible()

    page.get_by_role("button", name="Mark as solved").click()
    expect(page.locator(".page-head .status")).to_contain_text("Solved")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Support")).to_be_visible()
    shot(page, f"portal-login-{width}")


def test_an_agent_previews_the_portal_and_sets_the_rule(browser: Browser, live_server: Any) -> None:
    from deskhand.agents.services import create_agent
    from deskhand.customers.models import Customer
    from deskhand.testing.browsing import signed_in_page

    create_agent("ada@deskhand.test", name="Ada Admin", password="correct-horse-9", is_admin=True, actor=SYSTEM)
    create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    page = _page(browser, live_server, "desktop")
    _register(page, "zoe@acme.example", "Zoë Example", "desktop", shots=False)
    page.get_by_role("link", name="New request").first.click()
    page.get_by_label("Title").fill("VPN drops every hour")
    page.get_by_label("Description").fill("Since Monday.")
    page.get_by_role("button", name="Submit request").click()
    zoe = Customer.objects.get(email_key="zoe@acme.example")
    for agent_page in signed_in_page(browser, live_server, email="ada@deskhand.test",
                                     viewport={"width": 1280, "height": 860}):
        agent_page.goto(f"/customers/{zoe.pk}")
        expect(agent_page.get_by_role("heading", name="Customer portal")).to_be_visible()
        agent_page.get_by_role("link", name="Preview as customer").click()
        expect(agent_page.get_by_role("status")).to_contain_text("Preview: the portal as zoe@acme.example sees it")
        agent_page.get_by_role("link", name="VPN drops every hour").click()
        expect(agent_page.locator(".portal-conversation")).to_contain_text("Since Monday.")
        expect(agent_page.get_by_role("button", name="Send reply")).to_have_count(0)
        shot(agent_page, "portal-preview")
        agent_page.goto("/admin/apps")
        agent_page.get_by_label("Their organization's").check()
        agent_page.get_by_role("button", name="Save visibility").click()
        expect(agent_page.get_by_label("Their organization's")).to_be_checked()
        shot(agent_page, "admin-customer-apps")
