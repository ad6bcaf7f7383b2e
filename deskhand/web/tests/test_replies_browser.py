"""The reply box in a real browser: a canned response typed after ";" with its placeholders filled
in, a reply with Cc sent and set Pending, a macro in one click; the Replies page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.automations.rules import Action, ActionType
from deskhand.core.actors import Actor
from deskhand.mail.models import OutboundMessage
from deskhand.replies.inputs import NewCannedResponse, NewMacro
from deskhand.replies.services import create_canned_response, create_macro
from deskhand.testing.browsing import shot, signed_in_page
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item
from deskhand.work.services.items import submit_ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, agent: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=agent.email, viewport={"width": 1360, "height": 900})


@pytest.fixture
def ticket(agent: Agent, admin: Agent) -> Item:
    agent.signature = "Ana Agent\nSupport, Deskhand"
    agent.save()
    actor = Actor.agent(admin)
    create_canned_response(NewCannedResponse(title="Greeting", shortcut="hi", shared=True,
                                             body="Hello {{ requester.first_name }}, thanks for writing about "
                                                  "{{ item.reference }}."), actor=actor)
    create_canned_response(NewCannedResponse(title="Restart the printer", shortcut="restart", shared=True,
                                             body="Please switch it **off and on** again."), actor=actor)
    create_macro(NewMacro(name="Need logs", shared=True, reply="Could you send us the logs, {{ requester.first_name }}?",
                          actions=(Action(ActionType.SET_STATUS, value="pending"),
                                   Action(ActionType.SET_PRIORITY, value="high"))), actor=actor)
    return submit_ticket(ItemDraft(title="Printer offline", description="It says offline since Monday.",
                                   requester_email="dora.lee@acme.example", requester_name="Dora Lee"),
                         actor=Actor.agent(agent))


def test_a_canned_response_by_semicolon_then_a_reply_with_cc(page: Page, ticket: Item) -> None:
    page.goto(f"/tickets/{ticket.pk}")
    box = page.get_by_label("Reply", exact=True)
    box.click()
    box.press_sequentially(";gre")
    picker = page.get_by_role("listbox", name="Canned responses")
    expect(picker.get_by_role("option")).to_have_text(["Greeting  ;hi"])
    box.press("Enter")
    expect(box).to_have_value(f"Hello Dora, thanks for writing about {ticket.reference}.")
    box.press("End")
    box.press_sequentially(" It works again: ")
    box.press("Control+b")
    page.get_by_label("Cc", exact=True).fill("carl@acme.example")
    expect(page.locator("#draft-status")).to_have_text("Draft saved")
    expect(page.get_by_text("Support, Deskhand")).to_be_visible()
    shot(page, "reply-box")
    page.get_by_role("button", name="Send and set Pending").click()
    expect(page.locator(".msg-to")).to_have_text("To dora.lee@acme.example · Cc carl@acme.example")
    ticket.refresh_from_db()
    assert ticket.status.category == "pending"
    outbound = OutboundMessage.objects.get()
    assert outbound.headers["Cc"] == "carl@acme.example"
    assert "**bold text**" in outbound.body_text and "<strong>bold text</strong>" in outbound.body_html
    expect(page.get_by_label("Reply", exact=True)).to_have_value("")  # the draft went with the reply


def test_a_macro_in_one_click(page: Page, ticket: Item) -> None:
    page.goto(f"/tickets/{ticket.pk}")
    page.get_by_text("Apply a macro").click()
    shot(page, "macro")
    page.get_by_role("button", name="Need logs").click()
    expect(page.get_by_text("Macro “Need logs” applied.")).to_be_visible()
    expect(page.get_by_text("Could you send us the logs, Dora?")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status.category == "pending" and ticket.priority_key == "high"


def test_the_replies_page(page: Page, ticket: Item) -> None:
    page.goto("/replies")
    page.get_by_text("Add a canned response").click()
    page.get_by_label("Title", exact=True).fill("Closing")
    page.get_by_label("Shortcut", exact=True).fill("bye")
    page.get_by_label("Text", exact=True).fill("Closing this, {{ requester.first_name }}. {{ agent.first_name }}")
    page.get_by_role("button", name="Add canned response").click()
    expect(page.get_by_text("Canned response “Closing” added.")).to_be_visible()
    page.get_by_text("Add a canned response").click()
    page.get_by_label("Title", exact=True).fill("Broken")
    page.get_by_label("Text", exact=True).fill("Hi {{ customer.shoe_size }}")
    page.get_by_role("button", name="Add canned response").click()
    expect(page.get_by_role("alert")).to_contain_text("There is no placeholder")
    shot(page, "canned-responses")
