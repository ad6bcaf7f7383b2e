"""Administration → Automations in a real browser: build a rule with pickers, test it against a
ticket, save it, switch it off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.automations.models import Automation
from deskhand.automations.samples import ensure_samples
from deskhand.core.actors import Actor
from deskhand.testing.browsing import shot, signed_in_page
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1360, "height": 900})


def test_build_test_save_and_switch_off_a_rule(page: Page, agent: Agent) -> None:
    ensure_samples()
    ticket = submit_ticket(ItemDraft(title="Printer on floor 2", requester_email="zoe@acme.example"),
                           actor=Actor.agent(agent))
    page.goto("/admin/automations")
    expect(page.get_by_role("link", name="Sample: every new ticket gets the sample SLA")).to_be_visible()
    page.get_by_role("link", name="New ticket automation").click()
    page.get_by_label("Name").fill("Printers to Ana")
    page.get_by_label("Trigger").select_option("created")
    page.get_by_label("Condition 1 property").first.select_option("title")
    page.get_by_label("Condition 1 comparison").first.select_option("contains")
    page.get_by_label("Condition 1 value").first.fill("printer")
    page.get_by_label("Action 1", exact=True).select_option("assign")
    page.get_by_label("Action 1 assignee").select_option(f"agent:{agent.pk}")
    page.get_by_label("Item", exact=True).fill(f"#{ticket.pk}")
    page.get_by_role("button", name="Test").click()
    expect(page.locator("#test-result")).to_contain_text("this rule would run")
    expect(page.locator("#test-result")).to_contain_text("✓ title contains printer")
    shot(page, "automation-editor")
    page.get_by_role("button", name="Save automation").click()
    expect(page.get_by_role("link", name="Printers to Ana")).to_be_visible()
    shot(page, "automations")
    rule = Automation.objects.get(name="Printers to Ana")
    assert rule.enabled and rule.actions == [{"type": "assign", "agent": agent.pk}]
    page.get_by_role("switch", name="Printers to Ana on").click()
    expect(page.get_by_role("switch", name="Printers to Ana on")).to_have_attribute("aria-checked", "false")
    assert not Automation.objects.get(pk=rule.pk).enabled


def test_a_project_rule_files_new_customer_projects(page: Page, agent: Agent, admin: Agent) -> None:
    from deskhand.customers.services import create_organization
    from deskhand.work.services.projects import create_portfolio, create_project

    clients = create_portfolio("Clients", actor=Actor.agent(admin))
    acme = create_organization("Acme", actor=Actor.agent(admin))
    page.goto("/admin/automations?kind=project")
    page.get_by_role("link", name="New project automation").click()
    page.get_by_label("Name").fill("Customer projects")
    page.get_by_label("Condition 1 property").first.select_option("organization")
    page.get_by_label("Condition 1 comparison").first.select_option("is_not")
    page.get_by_label("Action 1", exact=True).select_option("set_field")
    page.get_by_label("Action 1 portfolio").select_option(str(clients.pk))
    page.get_by_role("button", name="+ Add an action").click()
    page.get_by_label("Action 2", exact=True).select_option("add_folder")
    page.get_by_label("Action 2 folder").fill("Support")
    shot(page, "automation-editor-project")
    page.get_by_role("button", name="Save automation").click()
    expect(page.get_by_role("link", name="Customer projects")).to_be_visible()
    expect(page.locator(".automations")).to_contain_text("Move to portfolio Clients; Add a folder Support")
    project = create_project("Acme rollout", organization=acme, actor=Actor.agent(agent))
    page.goto(f"/projects/{project.pk}")
    expect(page.get_by_label("Portfolio")).to_have_value(str(clients.pk))
    expect(page.locator(".folders")).to_contain_text("Support")
    expect(page.locator("#history-title").locator("..")).to_contain_text("Rule “Customer projects”")
    shot(page, "project-why")


def test_the_ticket_page_answers_why(page: Page, agent: Agent, admin: Agent) -> None:
    from deskhand.automations.inputs import AutomationChanges
    from deskhand.automations.rules import Action, ActionType, Condition, ItemKind, Op, Rule, Trigger, TriggerType
    from deskhand.automations.services import create_automation, update_automation

    ensure_samples()
    update_automation(Automation.objects.get(sample="sla"), changes=AutomationChanges(enabled=True),
                      actor=Actor.agent(admin))
    create_automation(Rule("Printers to Ana", ItemKind.TICKET, Trigger(TriggerType.CREATED),
                           all=(Condition("title", Op.CONTAINS, "printer"),),
                           actions=(Action(ActionType.ASSIGN, agent=agent.pk),
                                    Action(ActionType.SET_PRIORITY, value="high"))), actor=Actor.agent(admin))
    ticket = submit_ticket(ItemDraft(title="Printer on floor 2", requester_email="zoe@acme.example"),
                           actor=Actor.agent(agent))
    page.goto(f"/tickets/{ticket.pk}")
    history = page.locator("#history")
    expect(history).to_contain_text("Rule “Printers to Ana”")
    expect(history).to_contain_text("title contains printer")
    expect(history).to_contain_text("assigned to Ana Agent")
    expect(page.locator(".sla-badge")).to_contain_text("SLA running")
    shot(page, "ticket-why")


def test_routing_on_the_organization_profile(page: Page, agent: Agent) -> None:
    from deskhand.core.actors import SYSTEM
    from deskhand.customers.services import create_organization

    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    page.goto(f"/organizations/{acme.pk}")
    page.get_by_text("Change routing").click()
    page.get_by_label("Action 1", exact=True).select_option("assign")
    page.get_by_label("Action 1 assignee").select_option(f"agent:{agent.pk}")
    page.get_by_role("button", name="Save routing").click()
    expect(page.locator("#routing")).to_contain_text("Assign to Ana Agent")
    shot(page, "organization-routing")
    assert Automation.objects.get(routing=True).organization_id == acme.pk


def test_set_up_for_external_end_users(page: Page) -> None:
    ensure_samples()
    page.goto("/admin/automations")
    page.get_by_role("link", name="Set up for external end users…").click()
    expect(page.get_by_role("cell", name="Customer project for every new ticket")).to_be_visible()
    shot(page, "preset-external")
    page.get_by_role("button", name="Apply these changes").click()
    expect(page.get_by_role("switch", name="Customer project for every new ticket on")).to_have_attribute(
        "aria-checked", "true")
    assert Automation.objects.filter(enabled=True).count() == 5
