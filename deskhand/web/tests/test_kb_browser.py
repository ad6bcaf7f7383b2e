"""The agents' knowledge base in a real browser: an article written with the Markdown preview, saved
as a draft and published; an internal article readable in the app and a 404 on the public pages;
"Insert article" in a ticket's reply box (public articles, a Markdown link) and note box (internal
articles at their agents' address)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.core.actors import Actor
from deskhand.kb.models import Article
from deskhand.kb.tests.factories import make_article, make_category
from deskhand.mail.models import OutboundMessage
from deskhand.testing.browsing import shot, signed_in_page
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item, Message, MessageKind
from deskhand.work.services.items import submit_ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, agent: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=agent.email, viewport={"width": 1360, "height": 900})


def test_write_with_the_preview_publish_and_keep_one_internal(page: Page, live_server: Any) -> None:
    make_category("Accounts")
    page.get_by_role("link", name="Knowledge base").first.click()
    expect(page.get_by_role("heading", name="Knowledge base", level=1)).to_be_visible()
    page.get_by_role("link", name="New article").click()
    page.get_by_label("Title").fill("Set up two-factor sign-in")
    page.get_by_label("Text (Markdown)").fill(
        "1. Open **Profile → Security**\n2. Scan the code\n\n<img src=x onerror=alert(1)> [bad](javascript:alert(1))")
    page.get_by_label("Category").select_option(label="Accounts")
    page.get_by_label("Tags").fill("security 2fa")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#kb-preview")
    expect(preview.locator("strong")).to_have_text("Profile → Security")
    expect(preview.locator("ol > li")).to_have_count(2)
    expect(preview.locator("img")).to_have_count(0)
    expect(preview.locator("a[href^='javascript']")).to_have_count(0)
    shot(page, "kb-agents-editor")
    page.get_by_role("button", name="Save article").click()
    expect(page.get_by_role("heading", name="Set up two-factor sign-in", level=1)).to_be_visible()
    expect(page.locator(".kb-body strong")).to_have_text("Profile → Security")
    article = Article.objects.get(title="Set up two-factor sign-in")
    assert article.status == "draft"
    public = page.context.new_page()  # the agent's browser is no customer: the public page is the same for it
    assert public.goto(f"/kb/{article.slug}").status == 404  # type: ignore[union-attr]
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("button", name="Unpublish")).to_be_visible()
    shot(page, "kb-agents-article")
    assert public.goto(f"/kb/{article.slug}").status == 200  # type: ignore[union-attr]
    expect(public.get_by_role("heading", name="Set up two-factor sign-in", level=1)).to_be_visible()

    page.get_by_role("link", name="Knowledge base").first.click()
    page.get_by_role("link", name="New article").click()
    page.get_by_label("Title").fill("VPN gateway admin notes")
    page.get_by_label("Text (Markdown)").fill("The gateway's console is at `vpn-admin.internal`.")
    page.get_by_label("Visibility").select_option("internal")
    page.get_by_label("Status").select_option("published")
    page.get_by_role("button", name="Save article").click()
    expect(page.get_by_text("Internal (agents only)")).to_be_visible()
    expect(page.locator(".kb-body code")).to_have_text("vpn-admin.internal")
    internal = Article.objects.get(title="VPN gateway admin notes")
    assert public.goto(f"/kb/{internal.slug}").status == 404  # type: ignore[union-attr]
    public.goto("/kb/?q=gateway")
    expect(public.get_by_text("No article matches")).to_be_visible()
    public.close()

    page.get_by_role("link", name="Knowledge base").first.click()
    rows = page.locator(".kb-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="VPN gateway admin notes")).to_contain_text("Internal")
    page.get_by_role("searchbox", name="Search articles").fill("gateway")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    page.get_by_role("searchbox", name="Search articles").fill("")
    page.get_by_role("button", name="Search").click()
    shot(page, "kb-agents-list")


@pytest.fixture
def ticket(agent: Agent) -> Item:
    return submit_ticket(ItemDraft(title="Printer offline", description="It says offline since Monday.",
                                   requester_email="dora.lee@acme.example", requester_name="Dora Lee"),
                         actor=Actor.agent(agent))


def test_insert_an_article_link_in_a_reply_and_a_note(page: Page, ticket: Item) -> None:
    public = make_article("Printer shows offline", body="Switch the printer off and on.", tags=["printer"])
    internal = make_article("Printer fleet admin notes", body="Printer passwords are in the vault.",
                            visibility="internal")
    page.goto(f"/tickets/{ticket.pk}")
    reply = page.get_by_label("Reply", exact=True)
    reply.fill("Hello Dora, this should help:")
    insert = page.locator(".kb-insert[data-kb-target='reply-body']")
    insert.get_by_text("Insert article").click()
    insert.get_by_role("searchbox", name="Search the knowledge base").press_sequentially("printer", delay=20)
    choices = insert.get_by_role("listbox").get_by_role("button")
    expect(choices).to_have_count(1)
    expect(choices).to_contain_text("Printer shows offline")
    shot(page, "kb-insert-article")
    choices.first.click()
    link = f"[Printer shows offline]({settings.PUBLIC_ORIGIN}/kb/{public.slug})"
    expect(reply).to_have_value(f"Hello Dora, this should help: {link}")
    expect(insert.locator(".kb-insert-panel")).to_be_hidden()
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".conversation, main").get_by_role("link", name="Printer shows offline").first).to_be_visible()
    outbound = OutboundMessage.objects.get()
    assert f'href="{settings.PUBLIC_ORIGIN}/kb/{public.slug}"' in outbound.body_html

    note = page.get_by_label("Internal note")
    insert = page.locator(".kb-insert[data-kb-target='note-body']")
    insert.get_by_text("Insert article").click()
    insert.get_by_role("searchbox", name="Search the knowledge base").press_sequentially("fleet", delay=20)
    expect(insert.get_by_role("listbox").get_by_role("button")).to_contain_text("Printer fleet admin notes")
    insert.get_by_role("listbox").get_by_role("button").first.click()
    expect(note).to_have_value(f"[Printer fleet admin notes]({settings.PUBLIC_ORIGIN}/knowledge/{internal.pk})")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("link", name="Printer fleet admin notes").first).to_be_visible()
    assert Message.objects.filter(item=ticket, kind=MessageKind.NOTE, body__contains=f"/knowledge/{internal.pk}").exists()


def test_an_admin_turns_the_help_center_off(browser: Browser, live_server: Any, admin: Agent) -> None:
    from deskhand.config.queries import get_settings

    make_article("Reset your password")
    for admin_page in signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1360, "height": 900}):
        admin_page.goto("/admin/apps")
        section = admin_page.locator("section", has=admin_page.get_by_role("heading", name="Knowledge base"))
        expect(section).to_contain_text("1 public article published")
        section.get_by_label("Offer the public help center").uncheck()
        section.get_by_label("Default language").select_option("de")
        section.get_by_role("button", name="Save knowledge base").click()
        expect(admin_page.get_by_text("Knowledge base saved.")).to_be_visible()
        expect(section.get_by_label("Offer the public help center")).not_to_be_checked()
        expect(section.get_by_label("Default language")).to_have_value("de")
        section.scroll_into_view_if_needed()
        shot(admin_page, "kb-admin-customer-apps")
        assert admin_page.goto("/kb/").status == 404  # type: ignore[union-attr]
    assert get_settings()["kb_enabled"] is False and get_settings()["kb_language"] == "de"
