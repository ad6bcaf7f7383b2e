"""Satisfaction surveys: sent by an automation when a ticket is done, answered from the mail's
link, rolled up per organization, agent and month."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from deskhand.agents.models import Agent
from deskhand.automations.rules import Action, ActionType, ItemKind, Rule, Trigger, TriggerType
from deskhand.automations.services import create_automation
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.services import create_organization
from deskhand.mail.models import OutboundMessage
from deskhand.surveys.models import SurveyRequest
from deskhand.surveys.queries import by_month, summary, survey_list
from deskhand.work.inputs import AssigneeRef, ItemChanges, ItemDraft
from deskhand.work.models import Item
from deskhand.work.queries import item_events
from deskhand.work.services.items import change_item, submit_ticket


@pytest.fixture
def survey_on_done(admin_actor: Actor) -> None:
    create_automation(Rule("Survey when done", ItemKind.TICKET, Trigger(TriggerType.CHANGED, field="status",
                                                                        to_value="done"),
                           actions=(Action(ActionType.SEND_SURVEY),)), actor=admin_actor)


def done_ticket(actor: Actor, agent: Agent, email: str = "zoe@acme.example") -> Item:
    item = submit_ticket(ItemDraft(title="Printer", requester_email=email,
                                   assignees=[AssigneeRef("agent", agent.pk)]), actor=actor)
    change_item(item, changes=ItemChanges(status="done"), actor=actor)
    return item


def links(mail: OutboundMessage) -> dict[str, str]:
    return {rating: url for rating, url in re.findall(r"(Good|Okay|Bad): (\S+)", mail.body_text)}


def test_done_sends_a_survey_with_one_click_links(survey_on_done: None, agent_actor: Actor, agent: Agent) -> None:
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    item = done_ticket(agent_actor, agent)
    [survey] = SurveyRequest.objects.filter(item=item)
    assert (survey.customer, survey.organization, survey.agent) == (item.requester, acme, agent)
    [mail] = OutboundMessage.objects.filter(kind="survey")
    assert mail.to == ["zoe@acme.example"] and item.reference in mail.subject and mail.auto_submitted
    assert set(links(mail)) == {"Good", "Okay", "Bad"}
    assert links(mail)["Good"].startswith("http://127.0.0.1:8000/surveys/") and "rating=good" in links(mail)["Good"]
    assert "survey.sent" in [event.action for event in item_events(item)]


def test_the_page_records_the_click_takes_a_comment_and_changes_its_mind(
        survey_on_done: None, agent_actor: Actor, agent: Agent) -> None:
    item = done_ticket(agent_actor, agent)
    mail = OutboundMessage.objects.get(kind="survey")
    client = Client()
    page = client.get(links(mail)["Bad"].removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200 and "is saved" in page.content.decode()
    assert SurveyRequest.objects.get(item=item).rating == "bad"
    path = links(mail)["Good"].removeprefix("http://127.0.0.1:8000").split("?")[0]
    answered = client.post(path, {"rating": "good", "comment": "Fixed fast, thanks!"})
    assert answered.status_code == 200
    survey = SurveyRequest.objects.get(item=item)
    assert (survey.rating, survey.comment) == ("good", "Fixed fast, thanks!")
    assert client.post(path, {"rating": "superb"}).status_code == 422
    assert SurveyRequest.objects.get(item=item).rating == "good"


def test_tampered_and_expired_links_get_a_clear_page(survey_on_done: None, agent_actor: Actor,
                                                     agent: Agent) -> None:
    done_ticket(agent_actor, agent)
    mail = OutboundMessage.objects.get(kind="survey")
    path = links(mail)["Good"].removeprefix("http://127.0.0.1:8000").split("?")[0]
    client = Client()
    tampered = client.get(path[:-3] + "abc?rating=good")
    assert tampered.status_code == 422 and "not valid" in tampered.content.decode()
    SurveyRequest.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    expired = client.get(path + "?rating=good")
    assert expired.status_code == 410 and "closed" in expired.content.decode()
    assert not SurveyRequest.objects.exclude(rating="").exists()


def test_roll_ups(agent_actor: Actor, agent: Agent, admin: Agent) -> None:
    from deskhand.surveys.services import answer_survey, send_surveys

    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    items = [submit_ticket(ItemDraft(title=f"T{n}", requester_email=f"p{n}@acme.example",
                                     assignees=[AssigneeRef("agent", (agent if n < 3 else admin).pk)]),
                           actor=agent_actor) for n in range(4)]
    surveys = send_surveys(items, actor=agent_actor)
    for survey, rating in zip(surveys, ["good", "good", "bad"], strict=False):
        answer_survey(survey, rating=rating)
    assert summary(survey_list(organization=acme.pk)) == {
        "sent": 4, "answered": 3, "good": 2, "okay": 0, "bad": 1, "score": 66.7}
    assert summary(survey_list(agent=admin.pk))["answered"] == 0
    [month] = by_month(survey_list())
    assert month["month"] == timezone.now().strftime("%Y-%m") and month["good"] == 2


def test_the_api_lists_answers_with_their_summary(api: Any, survey_on_done: None, agent_actor: Actor,
                                                  agent: Agent) -> None:
    from deskhand.surveys.services import answer_survey

    item = done_ticket(agent_actor, agent)
    answer_survey(SurveyRequest.objects.get(item=item), rating="okay", comment="Slow.")
    body = api.get("/surveys", {"agent": agent.pk}).json()
    assert body["count"] == 1 and body["items"][0]["rating"] == "okay" and body["items"][0]["comment"] == "Slow."
    assert body["items"][0]["item_reference"] == item.reference
    assert body["summary"] == {"sent": 1, "answered": 1, "good": 0, "okay": 1, "bad": 0, "score": 0.0}
    assert api.get("/surveys", {"organization": "x"}).status_code == 422
