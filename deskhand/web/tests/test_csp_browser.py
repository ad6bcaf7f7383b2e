"""Under the Content-Security-Policy every page works and the browser reports no violation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Source
from deskhand.customers.services import create_customer, create_customer_type
from deskhand.testing.browsing import close_context, shot, signed_in_page
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.projects import create_folder, create_project

pytestmark = pytest.mark.django_db(transaction=True)

# Recorded by the page itself: an init script is not subject to the policy.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def _watch(page: Page) -> list[str]:
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    page.add_init_script(WATCH)
    return console


def _violations(page: Page, console: list[str]) -> list[str]:
    return [*page.evaluate("window.__violations || []"), *console]


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1280, "height": 800})


def test_the_main_pages_run_without_a_violation(page: Page, admin: Agent) -> None:
    console = _watch(page)
    vip = create_customer_type("VIP", color="#b91c1c", actor=SYSTEM)
    create_customer("ana@acme.example", source=Source.AGENT, customer_type=vip.name, actor=SYSTEM)
    project = create_project("Rollout", actor=SYSTEM)
    folder = create_folder("Phase 1", project=project.pk, actor=SYSTEM)
    ticket = submit_ticket(ItemDraft(title="Printer offline", requester_email="ana@acme.example", project=project.pk, folder=folder.pk), actor=SYSTEM)
    pages = ["/tickets", f"/tickets/{ticket.pk}", "/tasks", "/tasks/new", "/customers", "/projects",
             "/timesheets", "/admin/customers", "/admin/email", "/no-such-page", "/api/v1/docs"]
    for path in pages:
        response = page.goto(path)
        assert response is not None and "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        assert _violations(page, console) == [], path

    page.goto("/api/v1/docs")
    expect(page.get_by_text("/api/v1/customers").first).to_be_visible()  # Swagger UI ran, from our files
    shot(page, "api-docs")

    page.goto("/customers")
    page.locator("details[data-group] > summary", has_text="acme.example").click()  # loads the members (htmx)
    tag = page.locator(".tag", has_text="VIP").first
    expect(tag).to_have_css("color", "rgb(185, 28, 28)")  # the type's colour, set without a style attribute
    shot(page, "customers-csp")

    page.goto(f"/tickets?project={project.pk}&folder={folder.pk}")
    expect(page.get_by_label("Folder")).to_have_value(str(folder.pk))
    page.get_by_label("Project", exact=True).select_option("none")  # another project: the folder filter is cleared
    page.wait_for_url(lambda url: "folder=" not in url and "project=none" in url)
    assert _violations(page, console) == []


def test_the_sign_in_page_runs_without_a_violation(browser: Browser, live_server: Any) -> None:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    console = _watch(page)
    response = page.goto("/login")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "object-src 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    page.wait_for_load_state("networkidle")
    assert _violations(page, console) == []
    close_context(context)
