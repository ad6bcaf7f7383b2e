"""Web forms in a real browser: an admin builds one, and a visitor sends it from a page of another
site that embeds it (the snippet's iframe, served from a second loopback port), at desktop and
phone width."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, expect

from deskhand.agents.services import create_agent
from deskhand.core.actors import SYSTEM
from deskhand.testing.browsing import close_context, launch_chromium, serve_page, shot, signed_in_page
from deskhand.work.models import Item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


@pytest.fixture
def host_site(live_server: Any) -> Iterator[str]:
    """A company's page on another origin, with the embed snippet."""
    page = (f'<!doctype html><title>Acme</title><h1>Acme support</h1>'
            f'<iframe src="{live_server.url}/forms/it-help" title="IT help" style="width:100%;min-height:700px;border:0">'
            f'</iframe>')
    for address in serve_page(page, host="localhost"):
        yield address + "/"


@pytest.mark.parametrize("width", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}])
def test_build_a_form_and_send_it_from_another_site(browser: Browser, live_server: Any, host_site: str,
                                                    width: dict[str, int]) -> None:
    create_agent("ada@deskhand.test", name="Ada Admin", password="correct-horse-9", is_admin=True, actor=SYSTEM)
    for page in signed_in_page(browser, live_server, email="ada@deskhand.test", viewport={"width": 1280, "height": 900}):
        page.goto("/admin/apps")
        page.get_by_role("link", name="New form").click()
        page.get_by_label("Title").fill("IT help")
        page.get_by_label("Address").fill("it-help")
        page.get_by_label("Introduction").fill("Tell us what broke; we answer by mail.")
        page.get_by_label("Offer it on the portal's new-request page").check()
        shot(page, "admin-web-form-editor")
        page.get_by_role("button", name="Save form").click()
        expect(page.get_by_label("Embed on your site")).to_have_value(  # at the address customers reach
            f'<iframe src="{settings.PUBLIC_ORIGIN}/forms/it-help" title="IT help" '
            'style="width:100%;min-height:640px;border:0"></iframe>')
        shot(page, "admin-web-forms")
    context = browser.new_context(viewport=width)
    visitor = context.new_page()
    visitor.goto(host_site)
    frame = visitor.frame_locator("iframe[title='IT help']")
    frame.get_by_label("Email").fill("zoe@acme.example")
    frame.get_by_label("Name").fill("Zoë Example")
    frame.get_by_label("Title").fill("Laptop will not start")
    frame.get_by_label("Description").fill("Black screen since the update.")
    visitor.wait_for_timeout(2100)  # a person takes a moment; a bot that posts at once is refused
    shot(visitor, f"web-form-embedded-{'phone' if width['width'] < 600 else 'desktop'}")
    frame.get_by_role("button", name="Send request").click()
    expect(frame.get_by_role("status")).to_contain_text("has reached us")
    item = Item.objects.get()
    assert item.title == "Laptop will not start" and item.channel == "form"
    close_context(context)
