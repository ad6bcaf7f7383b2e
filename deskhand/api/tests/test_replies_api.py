"""/api/v1/canned-responses and /api/v1/macros: the same rules as the app (personal ones private,
unknown placeholders 422), and a macro applied to a ticket in one call."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.agents.models import Agent
from deskhand.agents.services import issue_token
from deskhand.conftest import ApiClient
from deskhand.core.actors import SYSTEM, Actor
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item
from deskhand.work.services.items import submit_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_api(agent: Agent) -> ApiClient:
    _token, plain = issue_token(agent, name="tests", actor=SYSTEM)
    return ApiClient(plain)


def test_canned_responses_crud_and_privacy(api: ApiClient, agent_api: ApiClient) -> None:
    made = agent_api.post("/canned-responses", {"title": "Thanks", "body": "Thanks {{ requester.first_name }}!",
                                                "shortcut": "thx"})
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["shared"] is False and body["shortcut"] == "thx"
    assert agent_api.get("/canned-responses").json()["count"] == 1
    assert api.get("/canned-responses").json()["count"] == 0  # the admin does not see it
    assert api.get(f"/canned-responses/{body['id']}").status_code == 404
    changed = agent_api.patch(f"/canned-responses/{body['id']}", {"title": "Thank you"})
    assert changed.status_code == 200 and changed.json()["title"] == "Thank you"
    bad = agent_api.post("/canned-responses", {"title": "Bad", "body": "Hi {{ customer.shoe }}"})
    assert bad.status_code == 422 and bad.json()["field"] == "body"
    assert agent_api.post("/canned-responses", {"title": "S", "body": "x", "shared": True}).status_code == 403
    assert api.post("/canned-responses", {"title": "S", "body": "x", "shared": True}).status_code == 201
    assert agent_api.get("/canned-responses").json()["count"] == 2
    assert agent_api.delete(f"/canned-responses/{body['id']}").status_code == 204


def test_a_macro_is_made_and_applied_to_a_ticket(agent_api: ApiClient, agent_actor: Actor, agent: Agent) -> None:
    ticket: Item = submit_ticket(ItemDraft(title="Login fails", requester_email="dora@acme.example"),
                                 actor=agent_actor)
    made = agent_api.post("/macros", {"name": "Escalate", "reply": "Looking into it, {{ agent.first_name }}.",
                                      "actions": [{"type": "set_priority", "value": "urgent"},
                                                  {"type": "set_status", "value": "pending"}]})
    assert made.status_code == 201, made.json()
    macro: dict[str, Any] = made.json()
    assert macro["actions"] == [{"type": "set_priority", "value": "urgent"}, {"type": "set_status", "value": "pending"}]
    applied = agent_api.post(f"/tickets/{ticket.pk}/macros/{macro['id']}")
    assert applied.status_code == 200, applied.json()
    assert applied.json()["status"] == "pending" and applied.json()["priority"] == "urgent"
    assert applied.json()["message"]
    bad = agent_api.post("/macros", {"name": "Bad", "actions": [{"type": "set_status", "value": "sideways"}]})
    assert bad.status_code == 422 and bad.json()["field"] == "actions.0.value"
    assert agent_api.post(f"/tickets/{ticket.pk}/macros/999999").status_code == 404
