"""Administration → Agents, the welcome page and the bell, through the web client."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from deskhand.agents.models import Agent
from deskhand.agents.services import create_team
from deskhand.core.actors import Actor
from deskhand.mail.models import OutboundMessage
from deskhand.notifications.models import Notification
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import add_message

pytestmark = pytest.mark.django_db


def test_agents_admin_is_for_admins(agent_client: Client, admin_client: Client, agent: Agent) -> None:
    assert agent_client.get("/admin/agents").status_code == 403
    assert agent_client.post("/admin/agents/invite", {"email": "x@example.com"}).status_code == 403
    page = admin_client.get("/admin/agents")
    assert page.status_code == 200 and b"ana@deskhand.test" in page.content and b"Send invitation" in page.content


def test_invite_then_welcome_signs_in(admin_client: Client, admin: Agent) -> None:
    team = create_team("First line", actor=Actor.agent(admin))
    response = admin_client.post("/admin/agents/invite", {"name": "Nia New", "email": "nia@example.com",
                                                          "role": "admin", "teams": [str(team.pk)]})
    assert response.status_code == 302
    nia = Agent.objects.get(email="nia@example.com")
    assert nia.is_admin and list(nia.teams.all()) == [team]
    path = re.search(r"https?://[^/\s]+(/welcome/\S+)", OutboundMessage.objects.get().body_text).group(1)
    browser = Client()
    assert browser.get(path).status_code == 200
    weak = browser.post(path, {"password": "12345678"})
    assert weak.status_code == 422
    done = browser.post(path, {"password": "a-long-new-secret"})
    assert done.status_code == 302 and browser.get("/profile").status_code == 200
    again = Client().get(path)
    assert again.status_code == 409 and b"used already" in again.content
    assert Client().get("/welcome/not-a-token").status_code == 404


def test_invalid_invitation_shows_the_error(admin_client: Client) -> None:
    response = admin_client.post("/admin/agents/invite", {"email": "not an address"})
    assert response.status_code == 422 and b'role="alert"' in response.content


def test_role_teams_and_deactivation_from_the_list(admin_client: Client, admin: Agent, agent: Agent) -> None:
    team = create_team("First line", actor=Actor.agent(admin))
    assert admin_client.post(f"/admin/agents/{agent.pk}", {"action": "save", "role": "admin",
                                                           "teams": [str(team.pk)]}).status_code == 302
    agent.refresh_from_db()
    assert agent.is_admin and list(agent.teams.all()) == [team]
    assert admin_client.post(f"/admin/agents/{agent.pk}", {"action": "deactivate"}).status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active
    own = admin_client.post(f"/admin/agents/{admin.pk}", {"action": "save", "role": "agent"})
    assert own.status_code == 409 and b"your own admin role" in own.content
    assert admin_client.post("/admin/agents/999999", {"action": "deactivate"}).status_code == 404


def test_the_bell_counts_lists_and_opens(admin: Agent, agent: Agent, agent_client: Client) -> None:
    ticket = submit_ticket(ItemDraft(title="Printer on fire", requester_email="bob@acme.example"),
                           actor=Actor.agent(admin))
    add_message(ticket, kind="note", body="@ana please call Bob", actor=Actor.agent(admin))
    count = agent_client.get("/notifications/count")
    assert count.status_code == 200 and b">1<" in count.content and b"1 unread" in count.content
    panel = agent_client.get("/notifications", headers={"HX-Request": "true"})
    assert b"Ada Admin mentioned you on #" in panel.content and b"Printer on fire" in panel.content
    assert b"<html" not in panel.content
    notification = Notification.objects.get()
    opened = agent_client.get(f"/notifications/{notification.pk}")
    assert opened.status_code == 302 and opened["Location"] == f"/tickets/{ticket.pk}"
    assert b"badge" not in agent_client.get("/notifications/count").content
    other = Client()
    other.force_login(admin)
    assert other.get(f"/notifications/{notification.pk}").status_code == 404


def test_opening_an_item_reads_its_notifications_only(admin: Agent, agent: Agent, agent_client: Client) -> None:
    first = submit_ticket(ItemDraft(title="Printer", requester_email="bob@acme.example"), actor=Actor.agent(admin))
    second = submit_ticket(ItemDraft(title="Scanner", requester_email="bob@acme.example"), actor=Actor.agent(admin))
    for ticket in (first, first, second):
        add_message(ticket, kind="note", body="@ana have a look", actor=Actor.agent(admin))
    add_message(first, kind="note", body="@admin and you", actor=Actor.agent(agent))
    assert agent_client.get(f"/tickets/{first.pk}").status_code == 200
    unread = Notification.objects.filter(read_at__isnull=True)
    assert sorted((n.agent_id, n.item_id) for n in unread) == [(admin.pk, first.pk), (agent.pk, second.pk)]


def test_the_mention_picker_offers_active_agents_by_handle(admin: Agent, agent: Agent, agent_client: Client) -> None:
    from deskhand.agents.services import create_agent, set_active

    gone = create_agent("anton@deskhand.test", name="Anton Gone", actor=Actor.agent(admin))
    set_active(gone, active=False, actor=Actor.agent(admin))
    create_agent("o'neil@deskhand.test", name="Olga O Neil", actor=Actor.agent(admin))

    def offered(typed: str) -> list[tuple[str, str]]:
        response = agent_client.get("/mentions", {"q": typed})
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        return [(row["handle"], row["name"]) for row in response.json()["agents"]]

    assert offered("a") == [("admin", "Ada Admin")]  # Anton is deactivated; Ana does not mention herself
    assert offered("NEIL") == [("olgaoneil", "Olga O Neil")]  # a word of the name
    assert offered("adaad") == [("admin", "Ada Admin")]  # the name without spaces
    assert offered("o") == [("olgaoneil", "Olga O Neil")]  # an address no mention reads: the name's handle
    assert len(offered("")) == 2 and offered("zz") == [] and offered("x" * 5000) == []
    assert Client().get("/mentions", {"q": "a"}).status_code == 302  # signed-in agents only


def test_mark_all_read(admin: Agent, agent: Agent, agent_client: Client) -> None:
    ticket = submit_ticket(ItemDraft(title="Printer", requester_email="bob@acme.example"), actor=Actor.agent(admin))
    for body in ("@ana one", "@ana two"):
        add_message(ticket, kind="note", body=body, actor=Actor.agent(admin))
    response = agent_client.post("/notifications/read", headers={"HX-Request": "true"})
    assert response.status_code == 200 and b'hx-swap-oob="true"' in response.content
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_the_page_shell_has_the_bell_and_the_profile_link(agent_client: Client) -> None:
    page = agent_client.get("/profile").content.decode()
    assert 'id="bell"' in page and 'href="/profile"' in page
