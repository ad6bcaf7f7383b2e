"""Administration → Agents through the API: invite, send again, role, deactivate and activate,
teams; the same services and refusals as the web page."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.agents.models import Agent
from deskhand.agents.services import accept_welcome, create_team, welcome_token
from deskhand.audit.models import AuditEvent
from deskhand.conftest import ApiClient
from deskhand.core.actors import SYSTEM
from deskhand.mail.models import OutboundMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_ids(admin: Agent) -> list[int]:
    return [create_team(name, actor=SYSTEM).pk for name in ("First line", "Billing")]


def test_an_admin_invites_an_agent_into_teams(api: ApiClient, team_ids: list[int]) -> None:
    response = api.post("/agents/invite", {"email": "Nia@Example.com", "name": "Nia New", "is_admin": True,
                                           "teams": team_ids})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["email"] == "Nia@example.com" and body["is_admin"] is True and body["is_active"] is True
    assert sorted(body["teams"]) == sorted(team_ids)
    mail = OutboundMessage.objects.get(kind="agent_invite")
    assert mail.to == ["Nia@example.com"] and "/welcome/" in mail.body_text
    again = api.post("/agents/invite", {"email": "nia@example.com"})
    assert again.status_code == 409 and again.json()["field"] == "email"


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "not-an-address"}, "email"),
    ({}, "email"),
    ({"email": 42}, "email"),
    ({"email": "x" * 2001 + "@acme.example"}, "email"),
    ({"email": "bo@acme.example", "name": "x" * 201}, "name"),
    ({"email": "bo@acme.example", "is_admin": "yes"}, "is_admin"),
    ({"email": "bo@acme.example", "teams": [999999]}, "teams"),
    ({"email": "bo@acme.example", "teams": ["one"]}, "teams.0"),
    ({"email": "bo@acme.example", "teams": list(range(1, 300))}, "teams"),
])
def test_a_bad_invitation_is_a_422_with_its_field_and_writes_nothing(api: ApiClient, body: dict[str, Any],
                                                                     field: str) -> None:
    before = (Agent.objects.count(), OutboundMessage.objects.count(), AuditEvent.objects.count())
    response = api.post("/agents/invite", body)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert (Agent.objects.count(), OutboundMessage.objects.count(), AuditEvent.objects.count()) == before


def test_an_invitation_goes_again_until_the_agent_joined(api: ApiClient) -> None:
    agent_id = api.post("/agents/invite", {"email": "nia@example.com"}).json()["id"]
    assert api.post(f"/agents/{agent_id}/invite").status_code == 202
    assert OutboundMessage.objects.filter(kind="agent_invite").count() == 2
    agent = Agent.objects.get(pk=agent_id)
    accept_welcome(welcome_token(agent), password="a-long-new-secret")
    joined = api.post(f"/agents/{agent_id}/invite")
    assert joined.status_code == 409 and "chosen a password" in joined.json()["detail"]
    assert api.post("/agents/999999/invite").status_code == 404


def test_an_admin_changes_role_activity_and_teams(api: ApiClient, agent: Agent, agent_api: ApiClient,
                                                  team_ids: list[int]) -> None:
    assert api.get(f"/agents/{agent.pk}").json()["is_admin"] is False
    promoted = api.patch(f"/agents/{agent.pk}", {"is_admin": True, "teams": team_ids[:1]})
    assert promoted.status_code == 200 and promoted.json()["is_admin"] is True
    assert promoted.json()["teams"] == team_ids[:1]
    moved = api.patch(f"/agents/{agent.pk}", {"teams": team_ids[1:]})
    assert moved.json()["teams"] == team_ids[1:] and moved.json()["is_admin"] is True  # the role untouched
    deactivated = api.patch(f"/agents/{agent.pk}", {"is_active": False})
    assert deactivated.status_code == 200 and deactivated.json()["is_active"] is False
    assert agent_api.get("/agents").status_code == 401  # their token stops working
    assert api.patch(f"/agents/{agent.pk}", {"is_active": True}).json()["is_active"] is True
    assert agent_api.get("/agents").status_code == 200
    actions = list(AuditEvent.objects.filter(object_type="agent", object_id=agent.pk).values_list("action", flat=True))
    assert {"agent.role_changed", "agent.deactivated", "agent.activated"} <= set(actions)


def test_the_api_refuses_what_the_page_refuses(api: ApiClient, admin: Agent, agent: Agent, agent_api: ApiClient,
                                               team_ids: list[int]) -> None:
    own = api.patch(f"/agents/{admin.pk}", {"is_admin": False})
    assert own.status_code == 409 and own.json()["field"] == "role"
    assert api.patch(f"/agents/{admin.pk}", {"is_active": False}).status_code == 409
    # All or nothing: the role is not changed when the teams are refused.
    half = api.patch(f"/agents/{agent.pk}", {"is_admin": True, "teams": [team_ids[0], 999999]})
    assert half.status_code == 422 and half.json()["field"] == "teams"
    agent.refresh_from_db()
    assert not agent.is_admin and not agent.teams.exists()
    assert api.patch(f"/agents/{agent.pk}", {"is_active": "no"}).status_code == 422
    assert api.patch("/agents/999999", {"is_admin": True}).status_code == 404
    assert agent_api.patch(f"/agents/{agent.pk}", {"is_admin": True}).status_code == 403
    assert agent_api.post("/agents/invite", {"email": "x@acme.example"}).status_code == 403
    assert agent_api.post(f"/agents/{agent.pk}/invite").status_code == 403
    assert not Agent.objects.filter(email="x@acme.example").exists()
