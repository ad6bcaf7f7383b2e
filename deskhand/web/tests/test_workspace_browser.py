"""The workspace in a real browser: views with counts, saving a view, the collision warning
between two agents on one ticket, and the search box."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM, Actor
from deskhand.testing.browsing import close_context, shot, signed_in_page
from deskhand.work.inputs import AssigneeRef, ItemDraft
from deskhand.work.models import Item, SavedView
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import add_message

pytestmark = pytest.mark.django_db(transaction=True)
VIEWPORT = {"width": 1360, "height": 820}


@pytest.fixture
def page(browser: Browser, live_server: Any, agent: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=agent.email, viewport=VIEWPORT)


def _ticket(title: str, **kwargs: Any) -> Item:
    return submit_ticket(ItemDraft(title=title, requester_email="bob@acme.example", **kwargs), actor=SYSTEM)


def test_views_with_counts_and_saving_one(page: Page, agent: Agent) -> None:
    mine = _ticket("VPN drops every hour", assignees=[AssigneeRef(kind="agent", id=agent.pk)], priority="urgent")
    add_message(mine, kind="customer", body="It happened again at 10:02.\nLogs attached.",
                actor=Actor.customer("bob@acme.example"))
    _ticket("New laptop for Carl")
    cache.clear()  # signing in showed the views before these tickets; shared counts are kept 30 s
    page.goto("/tickets")
    views = page.get_by_role("list", name="Tickets views")
    expect(views.get_by_role("link", name="My open")).to_contain_text("1")
    expect(views.get_by_role("link", name="Unassigned")).to_contain_text("1")
    expect(page.locator("tr.unread")).to_contain_text("It happened again at 10:02.")

    page.get_by_label("Priority").select_option("urgent")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_text("Save view").click()
    page.get_by_label("View name").fill("Urgent")
    page.get_by_label("Share with the team").check()
    page.get_by_role("button", name="Save this view").click()

    expect(page.get_by_role("heading", name="Urgent")).to_be_visible()
    expect(views.get_by_role("link", name="Urgent")).to_have_attribute("aria-current", "page")
    expect(views.get_by_role("link", name="Urgent")).to_contain_text("1")
    shot(page, "saved-views")
    assert SavedView.objects.get().query == {"priority": "urgent"}

    views.get_by_role("link", name="My open").click()
    expect(page.get_by_role("heading", name="My open")).to_be_visible()
    expect(views.get_by_role("link", name="My open")).to_have_attribute("aria-current", "page")


def test_two_agents_on_one_ticket_see_each_other(page: Page, browser: Browser, live_server: Any, agent: Agent,
                                                 admin: Agent) -> None:
    ticket = _ticket("Printer on fire")
    other = next(signed_in_page(browser, live_server, email=admin.email, viewport=VIEWPORT))
    other.goto(f"/tickets/{ticket.pk}")
    page.goto(f"/tickets/{ticket.pk}")
    expect(page.locator("#presence")).to_contain_text(f"{admin.display_name} is also viewing this ticket",
                                                      timeout=12_000)

    other.get_by_label("Internal note").press_sequentially("Sending a technician")
    expect(page.locator("#presence")).to_contain_text(f"{admin.display_name} is typing a reply", timeout=12_000)
    shot(page, "collision-warning")

    other.get_by_role("button", name="Add note").click()
    expect(page.locator("#presence")).to_contain_text(f"a note by {admin.display_name}", timeout=12_000)
    close_context(other.context)


def test_search_box_finds_everything_and_jumps_to_a_number(page: Page) -> None:
    ticket = _ticket("Acme printer jams")
    page.goto("/tickets")
    page.keyboard.press("/")
    expect(page.get_by_label("Search tickets, tasks, customers and organizations")).to_be_focused()
    page.keyboard.type("acme")
    popup = page.locator("#search-popup")
    expect(popup.get_by_role("heading", name="Tickets")).to_be_visible()
    expect(popup.get_by_role("heading", name="Customers")).to_be_visible()
    expect(popup).to_contain_text("Acme printer jams")
    shot(page, "search")
    page.keyboard.press("Escape")
    expect(popup).to_be_empty()

    page.get_by_label("Search tickets, tasks, customers and organizations").fill(f"#{ticket.pk}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{ticket.pk}")
