"""The customers page's organization groups open and close from the keyboard, and say so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Source
from deskhand.customers.services import create_organization, find_or_create_customer
from deskhand.testing.browsing import signed_in_page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, agent: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=agent.email, viewport={"width": 1280, "height": 800})


def test_an_organization_group_opens_and_closes_by_keyboard(page: Page) -> None:
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    find_or_create_customer("zoe@acme.example", name="Zoë Müller", source=Source.AGENT, actor=SYSTEM)
    page.goto("/customers")
    summary = page.locator(f'details[data-group="{acme.pk}"] > summary')
    expect(summary).to_have_attribute("aria-expanded", "false")
    expect(summary.locator(".disclosure")).to_be_visible()
    summary.focus()
    page.keyboard.press("Enter")
    expect(summary).to_have_attribute("aria-expanded", "true")
    expect(page.locator(f"#members-{acme.pk}")).to_contain_text("Zoë Müller")
    page.keyboard.press("Space")
    expect(summary).to_have_attribute("aria-expanded", "false")
    expect(page.locator(f"#members-{acme.pk}")).to_be_hidden()
