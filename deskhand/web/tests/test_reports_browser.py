"""Reports → SLA in a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.services import create_organization
from deskhand.sla.inputs import PolicyInput, TargetInput
from deskhand.sla.models import ItemSla
from deskhand.sla.services import apply_sla, clock_start, create_policy
from deskhand.testing.browsing import shot, signed_in_page
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1360, "height": 700})


def test_the_sla_report(page: Page, agent: Agent) -> None:
    policy = create_policy(PolicyInput("Standard", [TargetInput("normal", 60, 480)]), actor=SYSTEM)
    for domain in ("acme.example", "globex.example"):
        create_organization(domain.split(".")[0].capitalize(), domains=[domain], actor=SYSTEM)
    items = [submit_ticket(ItemDraft(title=f"T{n}", requester_email=f"p{n}@{d}"), actor=Actor.agent(agent))
             for n, d in enumerate(["acme.example", "acme.example", "globex.example"])]
    apply_sla([clock_start(item) for item in items], policy=policy, actor=SYSTEM)
    ItemSla.objects.filter(item=items[0]).update(first_response_breached_at=timezone.now())
    page.goto("/reports/sla")
    expect(page.get_by_role("row", name="Acme 2 1 0 0 50.0 %")).to_be_visible()
    shot(page, "report-sla")
    page.get_by_role("link", name="By month").click()
    expect(page.get_by_role("row").nth(1)).to_contain_text(timezone.now().strftime("%Y-%m"))


def test_the_satisfaction_report(page: Page, agent: Agent) -> None:
    from deskhand.surveys.services import answer_survey, send_surveys
    from deskhand.work.inputs import AssigneeRef

    create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    items = [submit_ticket(ItemDraft(title=f"T{n}", requester_email=f"p{n}@acme.example",
                                     assignees=[AssigneeRef("agent", agent.pk)]), actor=Actor.agent(agent))
             for n in range(3)]
    for survey, rating in zip(send_surveys(items, actor=SYSTEM), ["good", "good", "bad"], strict=True):
        answer_survey(survey, rating=rating)
    page.goto("/reports/satisfaction")
    expect(page.get_by_text("3 surveys sent, 3 answered")).to_be_visible()
    expect(page.get_by_role("img", name="Good, okay and bad answers per month")).to_be_visible()
    expect(page.get_by_role("row", name="Acme 3 2 0 1 66.7")).to_be_visible()
    shot(page, "report-satisfaction")
