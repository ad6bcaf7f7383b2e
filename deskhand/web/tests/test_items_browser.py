"""Tickets and Tasks in a real browser (Debian's Chromium driven by Playwright), as an agent works."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.agents.services import create_agent
from deskhand.core.actors import SYSTEM, Actor
from deskhand.testing.browsing import close_context, shot, signed_in_page
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item, Message, TimeEntry
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import add_message
from deskhand.work.services.projects import create_folder, create_portfolio, create_project

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1360, "height": 860})


def rows(page: Page) -> Any:
    return page.locator("#item-list tbody tr.item-row")


def test_create_a_ticket_then_reply_note_status_and_time(page: Page, tmp_path: Path) -> None:
    page.get_by_role("link", name="New ticket").click()
    page.get_by_label("Title").fill("Printer on fire")
    page.get_by_label("Description").fill("Third floor, next to the kitchen.")
    page.get_by_label("Requester email").fill("zoe@newco.example")
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Create ticket").click()
    item = Item.objects.get()
    expect(page.get_by_text(f"Ticket {item.reference} created.")).to_be_visible()
    assert item.requester.email == "zoe@newco.example" and item.organization.name == "newco.example"

    page.get_by_role("navigation", name="Applications").get_by_role("link", name="Tickets").click()
    row = rows(page).filter(has_text="Printer on fire")
    expect(row).to_contain_text("zoe@newco.example")
    expect(row).to_contain_text("newco.example")
    row.get_by_role("link", name="Printer on fire").click()
    expect(page.get_by_role("heading", name="Printer on fire")).to_be_visible()

    path = tmp_path / "steps.txt"
    path.write_text("1. Unplug it.\n")
    page.get_by_label("Reply", exact=True).fill("We are on our way.")
    page.get_by_label("Attach files", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent to zoe@newco.example.")).to_be_visible()
    reply = page.locator(".msg-reply")
    expect(reply).to_contain_text("We are on our way.")
    expect(reply.get_by_role("link", name="steps.txt")).to_be_visible()

    page.get_by_label("Internal note").fill("Bring the extinguisher.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".msg-note")).to_contain_text("Bring the extinguisher.")
    assert list(Message.objects.values_list("kind", flat=True).order_by("id")) == ["reply", "note"]

    page.evaluate("window.stillHere = true")  # in-place edits must not reload the page
    page.get_by_label("Status", exact=True).select_option("open")
    expect(page.locator("#history")).to_contain_text("changed the status from New to Open")
    page.get_by_label("Priority", exact=True).select_option("urgent")
    expect(page.locator("#history")).to_contain_text("changed the priority from High to Urgent")
    assert page.evaluate("window.stillHere") is True
    item.refresh_from_db()
    assert item.status.key == "open" and item.priority_key == "urgent"

    page.get_by_label("Requester").fill("not an address")
    page.get_by_label("Requester").press("Enter")
    expect(page.locator("#properties .field-error")).to_be_visible()
    item.refresh_from_db()
    assert item.requester.email == "zoe@newco.example"

    page.get_by_label("Minutes").fill("45")
    page.get_by_label("Note", exact=True).fill("On site")
    page.get_by_role("button", name="Log time").click()
    expect(page.locator("#time")).to_contain_text("45 min")
    expect(page.locator("#history")).to_contain_text("logged 45 min")
    assert TimeEntry.objects.get().minutes == 45 and page.evaluate("window.stillHere") is True
    shot(page, "ticket")


def test_filter_the_list_and_bulk_assign(page: Page) -> None:
    create_agent("bea@deskhand.test", name="Bea Agent", password="correct-horse-9", actor=SYSTEM)
    for title, email in [("Printer jammed", "a@acme.example"), ("Printer offline", "b@acme.example"),
                         ("VPN drops", "c@globex.example")]:
        submit_ticket(ItemDraft(title=title, requester_email=email), actor=SYSTEM)
    page.goto("/tickets?view=list")
    expect(rows(page)).to_have_count(3)
    page.get_by_label("Search", exact=True).fill("printer")
    expect(rows(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/tickets\?view=list&search=printer$"))
    page.get_by_label("Organization", exact=True).fill("globex.example")
    page.get_by_label("Organization", exact=True).press("Enter")
    expect(rows(page)).to_have_count(0)
    page.get_by_label("Organization", exact=True).fill("")
    page.get_by_label("Organization", exact=True).press("Enter")
    expect(rows(page)).to_have_count(2)

    page.get_by_label("Check all tickets on this page").check()
    page.get_by_label("Assign to").select_option(label="Bea Agent")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="2 tickets assigned to Bea Agent.")).to_be_visible()
    expect(rows(page).filter(has_text="Bea Agent")).to_have_count(2)
    bea = Agent.objects.get(email="bea@deskhand.test")
    assigned = Item.objects.filter(assignees__agent=bea).values_list("title", flat=True)
    assert sorted(assigned) == ["Printer jammed", "Printer offline"]

    page.get_by_label("Assignee").select_option(label="Bea Agent")
    expect(rows(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(rf"assignee={bea.pk}"))
    page.reload()  # the filters are in the address: a reload (or a shared link) shows the same list
    expect(page.get_by_label("Search", exact=True)).to_have_value("printer")
    expect(rows(page)).to_have_count(2)
    shot(page, "tickets")

    # Keyboard: j walks the rows, x checks one, Enter opens it.
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(rows(page).first.get_by_role("checkbox")).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Printer"))).to_be_visible()


def test_by_customer_and_by_portfolio_views(page: Page, admin: Agent) -> None:
    portfolio = create_portfolio("Clients", actor=SYSTEM)
    project = create_project("Acme rollout", portfolio=portfolio.pk, actor=SYSTEM)
    folder = create_folder("Phase 1", project=project.pk, actor=SYSTEM)
    first = submit_ticket(ItemDraft(title="Order laptops", requester_email="ann@acme.example", project=project.pk, folder=folder.pk), actor=SYSTEM)
    submit_ticket(ItemDraft(title="Reset password", requester_email="bob@acme.example"), actor=SYSTEM)
    submit_ticket(ItemDraft(title="Invoice question", requester_email="cy@globex.example"), actor=SYSTEM)
    add_message(first, kind="note", body="Budget approved.", actor=Actor.agent(admin))

    page.goto("/tickets")
    page.get_by_role("link", name="By customer", exact=True).click()
    tree = page.get_by_role("navigation", name="Tickets by customer")
    expect(tree).to_contain_text("acme.example")
    expect(tree).to_contain_text("globex.example")
    tree.get_by_role("link", name="acme.example").click()
    expect(rows(page)).to_have_count(2)
    tree = page.get_by_role("navigation", name="Tickets by customer")
    tree.locator("li", has_text="No project").first.get_by_role("link").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page)).to_contain_text("Reset password")
    tree = page.get_by_role("navigation", name="Tickets by customer")
    tree.get_by_role("link", name="Acme rollout").first.click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page)).to_contain_text("Order laptops")
    page.get_by_role("navigation", name="Tickets by customer").get_by_role("link", name="acme.example").click()
    shot(page, "tickets-by-customer")

    page.get_by_role("link", name="By portfolio").click()
    tree = page.get_by_role("navigation", name="Projects by portfolio")
    expect(tree).to_contain_text("Clients")
    tree.get_by_role("link", name="Phase 1").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page)).to_contain_text("Order laptops")
    expect(page.get_by_label("Folder")).to_have_value(str(folder.pk))
    shot(page, "tickets-by-portfolio")
    page.get_by_role("navigation", name="Projects by portfolio").get_by_role("link", name="All tickets").click()
    expect(rows(page)).to_have_count(3)


def test_new_task_form_keeps_input_on_errors(page: Page) -> None:
    project = create_project("Website", actor=SYSTEM)
    create_folder("Copy", project=project.pk, actor=SYSTEM)
    page.goto("/tasks/new")
    page.get_by_label("Description").fill("Kept text")
    page.get_by_label("Project").select_option(label="Website")
    expect(page.get_by_label("Folder")).to_contain_text("Copy")  # options follow the project
    page.get_by_role("button", name="Create task").click()
    expect(page.locator(".field-error")).to_have_text("Enter a title.")
    expect(page.get_by_label("Description")).to_have_value("Kept text")
    assert not Item.objects.exists()
    page.get_by_label("Title").fill("Rewrite the pricing page")
    page.get_by_label("Folder").select_option(label="Copy")
    page.get_by_role("button", name="Create task").click()
    expect(page.get_by_role("heading", name="Rewrite the pricing page")).to_be_visible()
    task = Item.objects.get()
    assert task.kind == "task" and task.folder.name == "Copy" and page.url.endswith(f"/tasks/{task.pk}")


def test_move_a_ticket_from_the_project_menu_with_the_keyboard(page: Page) -> None:
    """The item page loads its project menu only when it is opened; Tab, Enter and the arrow keys
    are enough to move the ticket to a project and folder."""
    for number in range(1, 31):
        project = create_project(f"Project {number:02}", actor=SYSTEM)
        create_folder("Backlog", project=project.pk, actor=SYSTEM)
    website = create_project("Website", actor=SYSTEM)
    create_folder("Copy", project=website.pk, actor=SYSTEM)
    create_folder("Design", project=website.pk, actor=SYSTEM)
    ticket = submit_ticket(ItemDraft(title="Pricing page typo", requester_email="ann@acme.example"), actor=SYSTEM)
    menus: list[str] = []
    page.on("request", lambda request: menus.append(request.url) if "/project-menu" in request.url else None)
    page.goto(f"/tickets/{ticket.pk}")
    summary = page.locator("#project-menu > summary")
    expect(summary).to_have_text("No project")
    expect(page.get_by_label("Project", exact=True)).to_have_count(0)
    assert menus == []  # not with the page

    summary.focus()
    page.keyboard.press("Enter")  # opens the menu: now it loads
    project_select = page.get_by_label("Project", exact=True)
    expect(project_select).to_be_visible()
    expect(project_select.locator("option")).to_have_count(32)  # No project + 31
    assert len(menus) == 1
    page.keyboard.press("Tab")
    expect(project_select).to_be_focused()
    project_select.select_option(label="Website")  # what the arrow keys do in a closed select
    folder_select = page.get_by_label("Folder", exact=True)
    expect(folder_select.locator("option")).to_have_text(["No folder", "Copy", "Design"])  # follows the project
    page.keyboard.press("Tab")
    expect(folder_select).to_be_focused()
    folder_select.select_option(label="Copy")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Move")).to_be_focused()
    shot(page, "ticket-project-menu")
    page.keyboard.press("Enter")

    expect(page.locator("#project-menu > summary")).to_have_text("Website / Copy")
    expect(page.locator("#history")).to_contain_text("Website")
    ticket.refresh_from_db()
    assert ticket.project == website and ticket.folder is not None and ticket.folder.name == "Copy"
    shot(page, "ticket-moved")


def test_phone_width(browser: Browser, live_server: Any, admin: Agent) -> None:
    portfolio = create_portfolio("Clients", actor=SYSTEM)
    project = create_project("Acme rollout", portfolio=portfolio.pk, actor=SYSTEM)
    ticket = submit_ticket(ItemDraft(title="A rather long title for a ticket about the printer on the third floor", requester_email="ann@acme.example", project=project.pk), actor=SYSTEM)
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill("admin@deskhand.test")
    page.get_by_label("Password").fill("correct-horse-9")
    page.get_by_role("button", name="Sign in").click()
    expect(rows(page)).to_have_count(1)
    widths = [page.evaluate("document.documentElement.scrollWidth")]
    shot(page, "tickets-phone")
    page.goto(f"/tickets/{ticket.pk}")
    expect(page.get_by_label("Reply", exact=True)).to_be_visible()
    widths.append(page.evaluate("document.documentElement.scrollWidth"))
    page.goto("/tickets/new")
    widths.append(page.evaluate("document.documentElement.scrollWidth"))
    shot(page, "ticket-new")
    close_context(context)
    assert max(widths) <= 400, widths


def test_remote_images_in_mail_load_only_after_the_click(page: Page) -> None:
    from deskhand.ingest.pipeline import process_ids
    from deskhand.ingest.receive import receive_raw
    from deskhand.mail.services import create_mailbox
    from deskhand.web.tests.test_item_mail import make_raw, png

    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    html = ('<p>Our spring catalogue is here.</p>'
            '<p><img src="https://images.example/catalogue.png" alt="Spring catalogue" width="240" height="80"></p>')
    inbound = receive_raw(make_raw(subject="Spring catalogue", html=html), transport="http")
    process_ids([inbound.pk])
    inbound.refresh_from_db()
    fetched: list[str] = []
    picture = png(240, 80)

    def serve(route: Any) -> None:
        fetched.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=picture)

    page.route("https://images.example/**", serve)
    page.goto(f"/tickets/{inbound.item_id}")
    message = page.locator(f"#message-{inbound.message_id}")
    expect(message.get_by_text("Remote images are blocked")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert fetched == []  # opening the ticket told the sender nothing
    shot(page, "remote-images-blocked")
    message.get_by_role("link", name="Load remote images").click()
    expect(page.locator(f"#message-{inbound.message_id} img[alt='Spring catalogue']")).to_have_attribute(
        "src", "https://images.example/catalogue.png")
    expect(page.get_by_text("Remote images are blocked")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert fetched == ["https://images.example/catalogue.png"]
    assert page.url.endswith(f"/tickets/{inbound.item_id}")  # swapped in place, no navigation
    shot(page, "remote-images-loaded")
