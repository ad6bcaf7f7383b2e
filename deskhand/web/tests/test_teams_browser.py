"""Administration → Teams in a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent, Team
from deskhand.testing.browsing import shot, signed_in_page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1360, "height": 860})


def test_add_a_team_with_members(page: Page, agent: Agent) -> None:
    page.goto("/admin/teams")
    page.get_by_label("Team name").fill("First line")
    page.get_by_label("Team email").fill("first@deskhand.test")
    page.get_by_role("group", name="Members", exact=True).get_by_label("Ana Agent").check()
    page.get_by_role("button", name="Add team").click()
    expect(page.get_by_role("heading", name="First line")).to_be_visible()
    expect(page.get_by_role("group", name="Members of First line").get_by_label("Ana Agent")).to_be_checked()
    shot(page, "admin-teams")
    assert list(Team.objects.get().members.all()) == [agent]
