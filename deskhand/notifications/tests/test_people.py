"""Agents as people: invitation and welcome link, role, deactivation, teams, profile, password, tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from deskhand.agents.models import Agent, ApiToken, Team
from deskhand.agents.services import (
    SIGNATURE_MAX_CHARS,
    accept_welcome,
    authenticate_token,
    change_password,
    change_role,
    create_team,
    issue_token,
    read_welcome_token,
    set_active,
    set_agent_teams,
    update_profile,
)
from deskhand.audit.models import AuditEvent
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid, NotFound
from deskhand.mail.models import OutboundMessage
from deskhand.notifications.invitations import Invitation, invite_agent, resend_invitation

pytestmark = pytest.mark.django_db


def _link(mail: OutboundMessage) -> str:
    match = re.search(r"https?://\S+/welcome/(\S+)", mail.body_text)
    assert match, mail.body_text
    return match.group(1)


def test_an_invitation_mails_a_link_that_sets_the_password_once(admin: Agent, admin_actor: Actor) -> None:
    team = create_team("First line", actor=admin_actor)
    agent = invite_agent(Invitation(email="Nia@Example.com", name="Nia New", teams=[team.pk]), actor=admin_actor)
    assert not agent.has_usable_password() and not agent.is_admin
    assert list(team.members.all()) == [agent]
    mail = OutboundMessage.objects.get(kind="agent_invite")
    assert mail.to == ["Nia@example.com"] and "admin@deskhand.test invited you" in mail.body_text
    token = _link(mail)
    assert read_welcome_token(token) == agent
    accept_welcome(token, password="a-long-new-secret")
    agent.refresh_from_db()
    assert agent.check_password("a-long-new-secret")
    with pytest.raises(Conflict) as used:
        accept_welcome(token, password="another-secret-42")
    assert used.value.code == "link_used"
    assert AuditEvent.objects.filter(action="agent.invitation_accepted", object_id=agent.pk).exists()


def test_a_welcome_link_expires_and_a_tampered_one_is_refused(admin_actor: Actor,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime

    agent = invite_agent(Invitation(email="nia@example.com"), actor=admin_actor)
    token = _link(OutboundMessage.objects.get(kind="agent_invite"))
    with pytest.raises(NotFound):
        read_welcome_token(token[:-3] + "xyz")
    monkeypatch.setattr("deskhand.agents.services.WELCOME_AGE", datetime.timedelta(seconds=-1))
    with pytest.raises(Conflict) as expired:
        accept_welcome(token, password="a-long-new-secret")
    assert expired.value.code == "link_expired" and not Agent.objects.get(pk=agent.pk).has_usable_password()


def test_a_weak_password_keeps_the_link_working(admin_actor: Actor) -> None:
    invite_agent(Invitation(email="nia@example.com"), actor=admin_actor)
    token = _link(OutboundMessage.objects.get(kind="agent_invite"))
    with pytest.raises(Invalid):
        accept_welcome(token, password="123")
    accept_welcome(token, password="a-long-new-secret")


def test_only_admins_invite_and_an_address_is_taken_once(admin_actor: Actor, agent_actor: Actor) -> None:
    with pytest.raises(Forbidden):
        invite_agent(Invitation(email="nia@example.com"), actor=agent_actor)
    with pytest.raises(Conflict):
        invite_agent(Invitation(email="ANA@deskhand.test"), actor=admin_actor)
    assert not OutboundMessage.objects.exists()


def test_resending_works_until_the_agent_joined(admin: Agent, admin_actor: Actor, agent: Agent) -> None:
    nia = invite_agent(Invitation(email="nia@example.com"), actor=admin_actor)
    resend_invitation(nia, actor=admin_actor)
    assert OutboundMessage.objects.filter(kind="agent_invite").count() == 2
    with pytest.raises(Conflict):
        resend_invitation(agent, actor=admin_actor)


def test_the_last_active_admin_and_oneself_are_protected(admin: Agent, admin_actor: Actor, agent: Agent) -> None:
    with pytest.raises(Conflict) as own:
        change_role(admin, is_admin=False, actor=admin_actor)
    assert own.value.code == "own_role"
    with pytest.raises(Conflict):
        set_active(admin, active=False, actor=admin_actor)
    change_role(agent, is_admin=True, actor=admin_actor)
    ana = Actor.agent(Agent.objects.get(pk=agent.pk))
    change_role(admin, is_admin=False, actor=ana)  # another admin remains: Ana
    with pytest.raises(Conflict) as self_demote:
        change_role(Agent.objects.get(pk=agent.pk), is_admin=False, actor=ana)
    assert self_demote.value.code == "own_role"


def test_the_last_admin_cannot_be_deactivated_by_a_second_admin_who_is_inactive(admin: Agent, admin_actor: Actor,
                                                                               agent: Agent) -> None:
    change_role(agent, is_admin=True, actor=admin_actor)
    set_active(agent, active=False, actor=admin_actor)
    with pytest.raises(Conflict) as last:
        set_active(admin, active=False, actor=Actor.agent(Agent.objects.get(pk=agent.pk)))
    assert last.value.code == "last_admin"
    with pytest.raises(Conflict):
        change_role(admin, is_admin=False, actor=Actor.agent(Agent.objects.get(pk=agent.pk)))


def test_a_deactivated_agent_cannot_sign_in_nor_use_tokens_and_keeps_their_name(
        admin_actor: Actor, agent: Agent, agent_actor: Actor) -> None:
    from deskhand.work.inputs import ItemDraft
    from deskhand.work.services.items import submit_ticket
    from deskhand.work.services.messages import add_message

    ticket = submit_ticket(ItemDraft(title="Printer", requester_email="bob@acme.example"), actor=agent_actor)
    add_message(ticket, kind="reply", body="Hello", actor=agent_actor)
    _token, plain = issue_token(agent, name="script", actor=agent_actor)
    set_active(agent, active=False, actor=admin_actor)
    client = Client()
    response = client.post("/login", {"email": agent.email, "password": "correct-horse-9"})
    assert response.status_code == 400
    assert authenticate_token(plain) is None
    assert client.get("/api/v1/agents", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    assert ticket.messages.get().author_name == "Ana Agent"
    set_active(Agent.objects.get(pk=agent.pk), active=True, actor=admin_actor)
    assert authenticate_token(plain) is not None


def test_a_signed_in_session_ends_when_the_agent_is_deactivated(admin_actor: Actor, agent: Agent,
                                                               agent_client: Client) -> None:
    assert agent_client.get("/profile").status_code == 200
    set_active(agent, active=False, actor=admin_actor)
    assert agent_client.get("/profile").status_code == 302


def test_teams_of_an_agent_change_through_the_teams_rule(admin: Agent, admin_actor: Actor, agent: Agent) -> None:
    first = create_team("First line", members=[admin.pk], actor=admin_actor)
    second = create_team("Second line", members=[agent.pk], actor=admin_actor)
    set_agent_teams(agent, teams=[first.pk], actor=admin_actor)
    assert sorted(a.email for a in first.members.all()) == ["admin@deskhand.test", "ana@deskhand.test"]
    assert list(second.members.all()) == []
    rows = AuditEvent.objects.filter(action="team.updated").order_by("object_id")
    assert [row.object_id for row in rows] == [first.pk, second.pk]
    with pytest.raises(Invalid):
        set_agent_teams(agent, teams=[999_999], actor=admin_actor)
    with pytest.raises(Forbidden):
        set_agent_teams(agent, teams=[], actor=Actor.agent(agent))
    assert Team.objects.count() == 2


def test_profile_saves_and_validates(agent: Agent, agent_actor: Actor) -> None:
    update_profile(agent, name="Ana A.", signature="Ana\n**Support**", language="de", time_zone="Europe/Zagreb",
                   actor=agent_actor)
    agent.refresh_from_db()
    assert (agent.name, agent.signature, agent.language, agent.time_zone) == (
        "Ana A.", "Ana\n**Support**", "de", "Europe/Zagreb")
    with pytest.raises(Invalid) as zone:
        update_profile(agent, name="Ana", signature="", language="", time_zone="Mars/Olympus", actor=agent_actor)
    assert zone.value.field == "time_zone"
    with pytest.raises(Invalid) as long:
        update_profile(agent, name="Ana", signature="x" * (SIGNATURE_MAX_CHARS + 1), language="", time_zone="",
                       actor=agent_actor)
    assert long.value.field == "signature"
    with pytest.raises(Invalid) as language:
        update_profile(agent, name="Ana", signature="", language="xx", time_zone="", actor=agent_actor)
    assert language.value.field == "language"
    agent.refresh_from_db()
    assert agent.time_zone == "Europe/Zagreb"  # nothing half-written


def test_changing_the_password_needs_the_current_one(agent: Agent, agent_actor: Actor, admin_actor: Actor) -> None:
    with pytest.raises(Invalid) as wrong:
        change_password(agent, current="nope", new="a-long-new-secret", actor=agent_actor)
    assert wrong.value.field == "current_password"
    with pytest.raises(Forbidden):
        change_password(agent, current="correct-horse-9", new="a-long-new-secret", actor=admin_actor)
    change_password(agent, current="correct-horse-9", new="a-long-new-secret", actor=agent_actor)
    assert Agent.objects.get(pk=agent.pk).check_password("a-long-new-secret")


def test_other_sessions_end_when_the_password_changes(agent: Agent) -> None:
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.post("/login", {"email": agent.email, "password": "correct-horse-9"})
    response = here.post("/profile/password", {"current_password": "correct-horse-9",
                                               "new_password": "a-long-new-secret"})
    assert response.status_code == 302
    assert here.get("/profile").status_code == 200
    assert elsewhere.get("/profile").status_code == 302


def test_tokens_are_created_and_revoked_only_by_their_owner(agent: Agent, admin: Agent, agent_client: Client,
                                                           admin_client: Client, admin_actor: Actor) -> None:
    response = agent_client.post("/profile/tokens", {"name": "reporting"})
    assert response.status_code == 200
    plain = re.search(r'value="(dh_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get(agent=agent)
    assert authenticate_token(plain) == token
    admins_token, _ = issue_token(admin, name="admin's", actor=admin_actor)
    page = agent_client.get("/profile").content.decode()
    assert "reporting" in page and "admin&#x27;s" not in page and "admin's" not in page
    assert admin_client.post(f"/profile/tokens/{token.pk}/revoke").status_code == 404
    assert agent_client.post(f"/profile/tokens/{admins_token.pk}/revoke").status_code == 404
    assert agent_client.post(f"/profile/tokens/{token.pk}/revoke").status_code == 302
    assert authenticate_token(plain) is None
    assert ApiToken.objects.get(pk=admins_token.pk).revoked_at is None


def test_the_profile_page_saves_and_shows_errors(agent: Agent, agent_client: Client) -> None:
    page = agent_client.get("/profile")
    assert page.status_code == 200 and b"Europe/Berlin" in page.content
    bad = agent_client.post("/profile/save", {"name": "Ana", "signature": "", "language": "", "time_zone": "Nowhere"})
    assert bad.status_code == 422 and b"is not a time zone name" in bad.content
    ok = agent_client.post("/profile/save", {"name": "Ana", "signature": "— Ana", "language": "de",
                                             "time_zone": "America/New_York"})
    assert ok.status_code == 302
    agent.refresh_from_db()
    assert agent.time_zone == "America/New_York" and agent.signature == "— Ana"


def test_the_time_zone_of_the_profile_shows_on_the_pages(agent: Agent, agent_client: Client) -> None:
    from django.utils import timezone

    seen: dict[str, Any] = {}

    def view_zone() -> None:
        seen["zone"] = str(timezone.get_current_timezone())

    agent.time_zone = "Asia/Tokyo"
    agent.save(update_fields=["time_zone"])
    from deskhand.agents.middleware import AgentTimeZoneMiddleware

    class Request:
        user = agent

    AgentTimeZoneMiddleware(lambda request: view_zone())(Request())  # type: ignore[arg-type, func-returns-value]
    assert seen["zone"] == "Asia/Tokyo" and str(timezone.get_current_timezone()) == "UTC"


def test_notification_switches_save_from_the_profile(agent: Agent, agent_client: Client) -> None:
    from deskhand.notifications.queries import switches_of

    response = agent_client.post("/profile/notifications", {"switch": ["assigned.in_app", "mentioned.email"]})
    assert response.status_code == 302
    chosen = switches_of(agent)
    assert chosen[("mentioned", "email")] and chosen[("assigned", "in_app")]
    assert not chosen[("assigned", "email")] and not chosen[("customer_replied", "in_app")]
