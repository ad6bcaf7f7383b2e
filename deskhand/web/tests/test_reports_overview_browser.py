"""The dashboard and /reports in a real browser: choose a period and a grouping, read the charts' tables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.core.actors import Actor
from deskhand.reports.tests.conftest import Desk, build_desk
from deskhand.testing.browsing import shot, signed_in_page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(admin: Agent, admin_actor: Actor) -> Desk:
    return build_desk(admin_actor)


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent, desk: Desk) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1360, "height": 900})


def test_dashboard_then_reports_for_a_period_by_agent(page: Page) -> None:
    page.goto("/dashboard")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    numbers = page.get_by_role("list", name="Today's numbers")
    expect(numbers.get_by_role("link", name="3 Open tickets", exact=True)).to_be_visible()
    expect(numbers.get_by_role("link", name="Unassigned")).to_contain_text("2")
    shot(page, "dashboard")
    numbers.get_by_role("link", name="Unassigned").click()
    expect(page).to_have_url(re.compile(r"assignee=none"))

    page.get_by_role("navigation", name="Applications").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("navigation", name="Reports").get_by_role("link", name="Tickets")).to_have_attribute(
        "aria-current", "page")
    page.get_by_label("Period", exact=True).select_option("custom")
    page.get_by_label("From", exact=True).fill("2026-03-28")
    page.get_by_label("To", exact=True).fill("2026-03-31")
    page.get_by_label("Time zone", exact=True).fill("Europe/Berlin")
    page.get_by_label("Group by", exact=True).select_option("agent")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Tickets: 28 Mar 2026 – 31 Mar 2026")).to_be_visible()
    expect(page.get_by_text("4 created, 3 solved")).to_be_visible()
    expect(page.get_by_role("img", name="Tickets created and solved per day")).to_be_visible()
    times = page.get_by_role("table").filter(has_text="First response median")
    expect(times.get_by_role("row", name="Ana Agent")).to_contain_text("2 h 30 min")
    page.get_by_text("Data table: per day").click()
    expect(page.get_by_role("row", name="Sat 28 Mar 2026")).to_contain_text("2")
    shot(page, "reports-by-agent")

    page.get_by_label("Group by", exact=True).select_option("channel")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("cell", name="Created by an agent").first).to_be_visible()
    shot(page, "reports-by-channel")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").first.click()
    assert download.value.suggested_filename == "volume-2026-03-28-2026-03-31-by-channel.csv"

    page.get_by_role("link", name="SLA", exact=True).click()
    expect(page.get_by_role("heading", name="SLA: breaches and attainment")).to_be_visible()
