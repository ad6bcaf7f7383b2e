"""Projects, timesheets and Administration → Work in a real browser (Debian's Chromium)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM
from deskhand.customers.services import create_organization
from deskhand.testing.browsing import shot, signed_in_page
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Folder, Portfolio, Project, Status, TimeEntry
from deskhand.work.services.items import create_task, submit_ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1280, "height": 800}, accept_downloads=True)


def test_create_portfolio_project_and_folder(page: Page) -> None:
    create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    page.goto("/projects")
    page.get_by_label("Portfolio name").fill("Operations")
    page.get_by_role("button", name="Add portfolio").click()
    expect(page.get_by_text("Portfolio Operations added.")).to_be_visible()

    page.get_by_label("Project name").fill("Website relaunch")
    page.get_by_label("Portfolio", exact=True).select_option(label="Operations")
    organization = page.get_by_label("Customer organization")
    organization.fill("Ac")
    expect(page.locator("#organization-names option[value='Acme']")).to_have_count(1)  # the picker's list
    organization.fill("Acme")
    page.get_by_role("button", name="Add project").click()
    expect(page.get_by_text("Project Website relaunch added.")).to_be_visible()
    project = Project.objects.get()
    assert project.portfolio.name == "Operations" and project.organization.name == "Acme"

    page.get_by_label("Folder name").fill("Design")
    page.get_by_role("button", name="Add folder").click()
    expect(page.get_by_text("Folder Design added.")).to_be_visible()
    folder = Folder.objects.get()
    submit_ticket(ItemDraft(title="Logo too small", requester_email="bob@acme.example", project=project.pk, folder=folder.pk), actor=SYSTEM)
    create_task(ItemDraft(title="Draft the copy", project=project.pk), actor=SYSTEM)

    page.goto("/projects")
    tree = page.locator(f"section[data-portfolio='{project.portfolio_id}']")
    expect(tree.get_by_role("link", name="Website relaunch", exact=True)).to_be_visible()
    expect(tree.get_by_label("1 open ticket in Website relaunch")).to_be_visible()
    expect(tree.get_by_label("1 open task in Website relaunch")).to_be_visible()
    expect(tree.get_by_label("1 open ticket in Design")).to_have_attribute(
        "href", f"/tickets?project={project.pk}&folder={folder.pk}")
    shot(page, "projects")

    row = page.locator(f"li[data-folder='{folder.pk}'] .tree-row")
    row.get_by_text("Rename…").click()
    row.get_by_label("New name for Design").fill("Artwork")
    row.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("Folder renamed to Artwork.")).to_be_visible()

    page.get_by_role("link", name="Website relaunch", exact=True).click()
    expect(page.get_by_role("heading", name="Website relaunch")).to_be_visible()
    expect(page.get_by_role("link", name="Logo too small")).to_be_visible()
    shot(page, "project")
    page.get_by_role("link", name="Delete project…").click()
    page.get_by_role("button", name="Delete project").click()
    expect(page.get_by_text("Project Website relaunch deleted; its tickets and tasks are kept.")).to_be_visible()
    assert not Project.objects.exists() and Portfolio.objects.count() == 1


def test_log_time_see_totals_and_export(page: Page) -> None:
    ticket = submit_ticket(ItemDraft(title="Printer on fire", requester_email="bob@acme.example"), actor=SYSTEM)
    page.goto("/timesheets")
    log = page.get_by_role("region", name="Log time")
    log.get_by_label("Item").fill(f"#{ticket.pk}")
    log.get_by_label("Minutes").fill("1:30")
    log.get_by_label("Note").fill("Replaced the toner")
    log.get_by_role("button", name="Log time").click()
    expect(page.get_by_text(f"Logged 1h 30m on #{ticket.pk} Printer on fire.")).to_be_visible()
    log = page.get_by_role("region", name="Log time")
    log.get_by_label("Item").fill(f"#{ticket.pk}")
    log.get_by_label("Minutes").fill("20")
    log.get_by_label("Billable").uncheck()
    log.get_by_role("button", name="Log time").click()
    expect(page.locator("[data-total]")).to_have_text("1h 50m")
    expect(page.locator("[data-billable]")).to_have_text("1h 30m")
    by_item = page.get_by_role("region", name="By item")
    expect(by_item.get_by_role("row", name=f"#{ticket.pk} Printer on fire 1h 50m 1h 30m")).to_be_visible()
    expect(page.get_by_role("region", name="By organization").get_by_text("acme.example")).to_be_visible()
    shot(page, "timesheets")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["date", "agent", "item"] and len(rows) == 3
    assert {row[-1] for row in rows[1:]} == {"Replaced the toner", ""}

    entry = TimeEntry.objects.get(minutes=20)
    page.get_by_label(f"Edit entry of {entry.date:%Y-%m-%d} on #{ticket.pk}").first.click()
    editor = page.get_by_role("form", name=f"Edit entry of {entry.date:%Y-%m-%d} on #{ticket.pk}")
    editor.get_by_label("Minutes").fill("25")
    shot(page, "timesheet-edit-entry")
    editor.get_by_role("button", name="Save entry").click()
    expect(page.get_by_text(f"Time entry on #{ticket.pk} saved.")).to_be_visible()
    expect(page.locator("[data-total]")).to_have_text("1h 55m")


def test_toggle_portfolios_off(page: Page) -> None:
    page.goto("/projects")
    page.get_by_label("Portfolio name").fill("Operations")
    page.get_by_role("button", name="Add portfolio").click()
    page.get_by_label("Project name").fill("Website")
    page.get_by_label("Portfolio", exact=True).select_option(label="Operations")
    page.get_by_role("button", name="Add project").click()
    expect(page.get_by_text("Project Website added.")).to_be_visible()

    page.goto("/admin/work")
    page.get_by_label("Use portfolios").uncheck()
    page.get_by_role("button", name="Save view settings").click()
    expect(page.get_by_text("View settings saved.")).to_be_visible()
    page.goto("/projects")
    expect(page.get_by_role("link", name="Website", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Operations")).to_have_count(0)
    expect(page.get_by_label("Portfolio name")).to_have_count(0)
    shot(page, "projects-without-portfolios")


def test_admin_adds_a_status(page: Page) -> None:
    page.goto("/admin/customers")
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Work").click()
    tickets = page.get_by_role("region", name="Ticket workflow")
    tickets.get_by_label("New ticket status").fill("Waiting on customer")
    tickets.get_by_label("Category", exact=True).select_option(label="Pending")
    tickets.get_by_role("button", name="Add ticket status").click()
    expect(page.get_by_text("Status Waiting on customer added to the ticket workflow.")).to_be_visible()
    status = Status.objects.get(kind="ticket", key="waiting_on_customer")
    assert status.category == "pending"
    tickets = page.get_by_role("region", name="Ticket workflow")
    tickets.get_by_role("button", name="Move Waiting on customer up").click()
    expect(page.locator("#ticket-workflow li").nth(3)).to_have_attribute("data-status", "waiting_on_customer")
    submit_ticket(ItemDraft(title="Stuck", requester_email="bob@acme.example", status="waiting_on_customer"), actor=SYSTEM)
    page.get_by_role("region", name="Ticket workflow").get_by_role("button", name="Remove Waiting on customer").click()
    expect(page.get_by_role("alert").filter(has_text="move them to another status first")).to_be_visible()
    shot(page, "admin-work")
