"""The survey page in a real browser, as a customer opens it from the mail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from deskhand.agents.models import Agent
from deskhand.core.actors import Actor
from deskhand.mail.models import OutboundMessage
from deskhand.surveys.models import SurveyRequest
from deskhand.surveys.services import send_surveys
from deskhand.testing.browsing import close_context, launch_chromium, shot
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


def test_rate_from_the_mail_then_comment(browser: Browser, live_server: Any, agent: Agent) -> None:
    item = submit_ticket(ItemDraft(title="Printer on floor 2", requester_email="zoe@acme.example"),
                         actor=Actor.agent(agent))
    send_surveys([item], actor=Actor.agent(agent))
    mail = OutboundMessage.objects.get(kind="survey")
    good = re.search(r"Good: \S+/(surveys/\S+)", mail.body_text)
    assert good is not None
    context = browser.new_context(base_url=live_server.url, viewport={"width": 900, "height": 700})
    page = context.new_page()
    page.goto("/" + good.group(1))
    expect(page.get_by_role("status")).to_contain_text("is saved")
    expect(page.get_by_label("Good")).to_be_checked()
    page.get_by_label("Okay").check()
    page.get_by_label("Comment (optional)").fill("Took two days, but it works now.")
    shot(page, "survey")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("“Okay” is saved")
    survey = SurveyRequest.objects.get(item=item)
    assert (survey.rating, survey.comment) == ("okay", "Took two days, but it works now.")
    page.goto("/surveys/not-a-token")
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    close_context(context)
