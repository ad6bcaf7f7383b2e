"""Administration → Teams: add, rename, members, address, remove; and the API's team routes."""

from __future__ import annotations

from django.test import Client

from deskhand.agents.models import Agent, Team
from deskhand.conftest import ApiClient


def test_add_change_and_remove_a_team(admin_client: Client, agent: Agent, admin: Agent) -> None:
    response = admin_client.post("/admin/teams/new", {"name": "First line", "email": "first@deskhand.test",
                                                      "members": [str(agent.pk)]})
    assert response.status_code == 302
    team = Team.objects.get()
    assert (team.email, list(team.members.all())) == ("first@deskhand.test", [agent])
    page = admin_client.get("/admin/teams").content.decode()
    assert "Members of First line" in page and 'value="first@deskhand.test"' in page
    admin_client.post(f"/admin/teams/{team.pk}", {"action": "save", "name": "Second line",
                                                  "members": [str(agent.pk), str(admin.pk)]})
    team.refresh_from_db()
    assert team.name == "Second line" and team.members.count() == 2
    refused = admin_client.post("/admin/teams/new", {"name": "second LINE"})
    assert refused.status_code == 409 and "already exists" in refused.content.decode()
    bad = admin_client.post(f"/admin/teams/{team.pk}", {"action": "save", "name": "X", "email": "nope"})
    assert bad.status_code == 422 and Team.objects.get().name == "Second line"
    admin_client.post(f"/admin/teams/{team.pk}", {"action": "delete"})
    assert not Team.objects.exists()


def test_agents_cannot_manage_teams(agent_client: Client) -> None:
    assert agent_client.get("/admin/teams").status_code == 403
    assert agent_client.post("/admin/teams/new", {"name": "Mine"}).status_code == 403


def test_the_api_changes_and_removes_teams(api: ApiClient, agent: Agent) -> None:
    team = api.post("/teams", {"name": "Support", "email": "support-team@deskhand.test"}).json()
    assert team["email"] == "support-team@deskhand.test" and team["members"] == []
    changed = api.put(f"/teams/{team['id']}", {"name": "Support", "members": [agent.pk]})
    assert changed.status_code == 200 and changed.json()["members"] == [agent.pk] and changed.json()["email"] == ""
    assert api.put(f"/teams/{team['id']}", {"name": "Support", "members": [999999]}).status_code == 422
    assert api.delete(f"/teams/{team['id']}").status_code == 204
    assert api.delete(f"/teams/{team['id']}").status_code == 404
