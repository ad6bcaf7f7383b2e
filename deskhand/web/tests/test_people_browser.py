"""Administration → Agents, the profile and the notification bell in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.agents.services import create_agent, create_team
from deskhand.core.actors import SYSTEM, Actor
from deskhand.mail.models import OutboundMessage
from deskhand.testing.browsing import close_context, shot, signed_in_page
from deskhand.web.views import notifications
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1360, "height": 860})


def test_invite_change_role_and_deactivate(page: Page, admin: Agent, agent: Agent, browser: Browser,
                                          live_server: Any) -> None:
    create_team("First line", actor=Actor.agent(admin))
    page.goto("/admin/agents")
    expect(page.get_by_role("link", name="Agents", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_label("Name", exact=True).fill("Nia New")
    page.get_by_label("Email", exact=True).fill("nia@deskhand.test")
    page.get_by_role("group", name="Teams", exact=True).get_by_label("First line").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status").filter(has_text="Invitation sent to nia@deskhand.test.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Nia New"))).to_contain_text("Invited")

    page.get_by_label("Role of Ana Agent").select_option("admin")
    page.get_by_role("button", name="Save Ana Agent").click()
    expect(page.get_by_role("status").filter(has_text="Ana Agent saved.")).to_be_visible()
    assert Agent.objects.get(pk=agent.pk).is_admin
    page.get_by_role("button", name="Deactivate Ana Agent").click()
    expect(page.get_by_role("row", name=re.compile("Ana Agent"))).to_contain_text("Deactivated")
    expect(page.get_by_role("button", name="Activate Ana Agent")).to_be_visible()
    page.get_by_label("Role of Ada Admin").select_option("agent")
    page.get_by_role("button", name="Save Ada Admin").click()
    expect(page.get_by_role("alert")).to_contain_text("your own admin role")
    shot(page, "admin-agents")

    # The invitation's link: Nia chooses a password and is signed in.
    link = re.search(r"https?://[^/\s]+(/welcome/\S+)", OutboundMessage.objects.get(kind="agent_invite").body_text)
    context = browser.new_context(base_url=live_server.url)
    nia = context.new_page()
    nia.goto(link.group(1))
    nia.get_by_label("New password").fill("a-long-new-secret")
    nia.get_by_role("button", name="Set password and sign in").click()
    expect(nia.get_by_role("status").filter(has_text="Welcome, Nia New.")).to_be_visible()
    nia.get_by_role("link", name="Nia New").click()
    expect(nia.get_by_role("heading", name="Your profile")).to_be_visible()
    nia.get_by_label("Signature", exact=True).fill("Nia\nFirst line support")
    nia.get_by_label("Time zone", exact=True).select_option("Europe/Zagreb")
    nia.get_by_role("button", name="Save profile").click()
    expect(nia.get_by_role("status").filter(has_text="Your profile is saved.")).to_be_visible()
    nia.get_by_label("Token name").fill("reporting")
    nia.get_by_role("button", name="Create token").click()
    expect(nia.get_by_label("New API token")).to_have_value(re.compile("^dh_"))
    shot(nia, "profile")
    close_context(context)
    assert Agent.objects.get(email="nia@deskhand.test").time_zone == "Europe/Zagreb"


def test_the_bell_rings_without_a_reload(page: Page, browser: Browser, live_server: Any,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notifications, "POLL_SECONDS", 1)
    bea = create_agent("bea@deskhand.test", name="Bea Berg", password="correct-horse-9", actor=SYSTEM)
    ticket = submit_ticket(ItemDraft(title="Printer on fire", requester_email="bob@acme.example"), actor=SYSTEM)
    pages = signed_in_page(browser, live_server, email=bea.email, viewport={"width": 1360, "height": 860})
    bea_page = next(pages)
    bea_page.goto("/tickets")
    expect(bea_page.locator("#bell-count .badge")).to_have_count(0)

    page.goto("/tickets?view=list")
    page.get_by_label("Check all tickets on this page").check()
    page.get_by_label("Assign to").select_option(label="Bea Berg")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="assigned to Bea Berg")).to_be_visible()

    expect(bea_page.locator("#bell-count .badge")).to_have_text("1", timeout=15_000)
    bea_page.locator("#bell > summary").click()
    entry = bea_page.get_by_role("link", name=re.compile("Ada Admin assigned #"))
    expect(entry).to_be_visible()
    shot(bea_page, "notifications")
    entry.click()
    expect(bea_page).to_have_url(re.compile(rf"/tickets/{ticket.pk}$"))
    expect(bea_page.locator("#bell-count .badge")).to_have_count(0)
    next(pages, None)


def test_mentioning_a_colleague_from_the_note_box(page: Page, admin: Agent, agent: Agent) -> None:
    from deskhand.notifications.models import Notification

    create_agent("bea@deskhand.test", name="Bea Berg", actor=SYSTEM)
    ticket = submit_ticket(ItemDraft(title="Printer on fire", requester_email="bob@acme.example"),
                           actor=Actor.agent(admin))
    page.goto(f"/tickets/{ticket.pk}")
    note = page.get_by_label("Internal note")
    note.click()
    note.press_sequentially("Could @")
    picker = page.get_by_role("listbox", name="Colleagues to mention")
    expect(picker.get_by_role("option")).to_have_count(2)  # Ana and Bea; Ada does not mention herself
    note.press_sequentially("b")
    expect(picker.get_by_role("option")).to_have_count(1)
    note.press("Backspace")
    expect(picker.get_by_role("option")).to_have_count(2)
    note.press("ArrowDown")
    expect(picker.get_by_role("option", name=re.compile("Bea Berg"))).to_have_attribute("aria-selected", "true")
    note.press("ArrowUp")
    expect(picker.get_by_role("option", name=re.compile("Ana Agent"))).to_have_attribute("aria-selected", "true")
    shot(page, "note-mention-picker")
    note.press("Enter")
    expect(picker).to_be_hidden()
    expect(note).to_have_value("Could @ana ")
    note.press_sequentially("look, and @")
    expect(picker).to_be_visible()
    note.press("Escape")
    expect(picker).to_be_hidden()
    expect(note).to_have_value("Could @ana look, and @")  # Esc closes; the text stays
    note.press_sequentially("bea?")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Could @ana look, and @bea?")).to_be_visible()
    assert sorted(Notification.objects.filter(event="mentioned").values_list("agent__email", flat=True)) == [
        "ana@deskhand.test", "bea@deskhand.test"]
