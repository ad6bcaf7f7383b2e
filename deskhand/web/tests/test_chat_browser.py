"""Live chat in two real browsers: a customer on the portal's chat page and an agent in the
console, chatting in real time; and a chat nobody accepts becoming a ticket."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from deskhand.agents.services import create_agent
from deskhand.chat import stream
from deskhand.chat.models import Chat, ChatStatus
from deskhand.chat.services import sweep_unanswered
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.testing.browsing import close_context, launch_chromium, shot, signed_in_page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


@pytest.fixture(autouse=True)
def quick_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test server is threaded WSGI: streams end soon after their page closes.
    monkeypatch.setattr(stream, "KEEPALIVE_SECONDS", 0.5)
    monkeypatch.setattr(stream, "MAX_SECONDS", 20.0)


def test_a_customer_and_an_agent_chat_in_real_time(browser: Browser, live_server: Any) -> None:
    create_agent("ana@deskhand.test", name="Ana Agent", password="correct-horse-9", actor=SYSTEM)
    customer_context = browser.new_context(base_url=live_server.url, viewport={"width": 900, "height": 900})
    customer = customer_context.new_page()
    customer.set_default_timeout(15_000)
    customer.goto("/portal/chat")
    customer.get_by_label("Email").fill("zoe@example.org")
    customer.get_by_label("Name").fill("Zoe")
    customer.get_by_label("Your question").fill("My printer is on fire")
    customer.get_by_role("button", name="Start chat").click()
    expect(customer.locator("#chat-state")).to_contain_text("Waiting for an agent")
    expect(customer.locator("#chat-log")).to_contain_text("My printer is on fire")
    shot(customer, "chat-portal-waiting")
    for agent in signed_in_page(browser, live_server, email="ana@deskhand.test", viewport={"width": 1280, "height": 900}):
        expect(agent.locator("#chat-badge")).to_have_text("1")
        agent.get_by_role("link", name="Chats").click()
        agent.get_by_role("link", name="Zoe").click()
        agent.get_by_role("button", name="Accept").click()
        expect(customer.locator("#chat-state")).to_contain_text("You are chatting with Ana Agent")
        agent.get_by_label("Your reply").fill("Unplug it, please.")
        agent.get_by_label("Your reply").press("Enter")
        expect(customer.locator("#chat-log")).to_contain_text("Unplug it, please.")
        customer.get_by_label("Your message").fill("Done, thanks!")
        customer.get_by_role("button", name="Send").click()
        expect(agent.locator("#chat-log")).to_contain_text("Done, thanks!")
        shot(agent, "chat-console")
        shot(customer, "chat-portal-active")
        agent.get_by_role("button", name="Turn into ticket").click()
        expect(agent).to_have_url(f"{live_server.url}/tickets/{Chat.objects.get().ticket_id}")
        expect(customer.locator("#chat-state")).to_contain_text("#")
        expect(customer.locator("#chat-log")).to_contain_text("We will answer you by email")
    close_context(customer_context)


def test_a_chat_nobody_accepts_becomes_a_ticket(browser: Browser, live_server: Any) -> None:
    update_settings({"chat_accept_seconds": 10}, actor=SYSTEM)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    customer = context.new_page()
    customer.set_default_timeout(15_000)
    customer.goto("/portal/chat")
    customer.get_by_label("Email").fill("zoe@example.org")
    customer.get_by_label("Your question").fill("Is anybody there?")
    customer.get_by_role("button", name="Start chat").click()
    expect(customer.locator("#chat-state")).to_contain_text("Waiting for an agent")
    # The scheduler's round, 11 seconds on.
    assert sweep_unanswered(now=timezone.now() + datetime.timedelta(seconds=11)) == 1
    chat = Chat.objects.get()
    assert chat.status == ChatStatus.TICKET
    expect(customer.locator("#chat-state")).to_contain_text(f"#{chat.ticket_id}")
    expect(customer.locator("#chat-log")).to_contain_text(f"request #{chat.ticket_id}")
    expect(customer.locator("#chat-send")).to_be_hidden()
    shot(customer, "chat-portal-ticket")
    close_context(context)
