from __future__ import annotations

from typing import Any

import pytest

from deskhand.agents.models import Agent
from deskhand.agents.services import create_agent, create_team, ensure_admin
from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid


def test_agents_sign_in_by_email_regardless_of_case(admin: Agent) -> None:
    from django.contrib.auth import authenticate

    assert authenticate(username="ADMIN@deskhand.test", password="correct-horse-9") == admin


@pytest.mark.parametrize(("email", "name", "password"), [
    ("zoe.mueller@deskhand.test", "", "zoe.mueller@deskhand.test"),  # the address itself
    ("zoe.mueller@deskhand.test", "", "zoe.mueller"),
    ("z@deskhand.test", "Zoë Wintermantel", "Wintermantel"),  # the name
    ("z@deskhand.test", "", "4711080815"),  # digits only
])
def test_a_password_like_the_agents_address_or_name_or_all_digits_is_refused(
        db: Any, email: str, name: str, password: str) -> None:
    with pytest.raises(Invalid) as error:
        create_agent(email, name=name, password=password, actor=SYSTEM)
    assert (error.value.code, error.value.field) == ("weak_password", "password")
    assert not Agent.objects.exists()


def test_the_admin_from_the_environment_cannot_use_its_address_as_password(admin: Agent) -> None:
    with pytest.raises(Invalid):
        ensure_admin("owner@deskhand.test", password="owner@deskhand.test", actor=SYSTEM)
    with pytest.raises(Invalid):  # an existing agent whose password is changed to its address
        ensure_admin("admin@deskhand.test", password="admin@deskhand.test", actor=SYSTEM)


def test_emails_are_unique_regardless_of_case(admin: Agent) -> None:
    with pytest.raises(Conflict):
        create_agent("Admin@Deskhand.test", actor=SYSTEM)


@pytest.mark.parametrize(("kwargs", "field"), [({"email": "nope"}, "email"),
                                                ({"email": "a@b.com", "password": "short"}, "password")])
def test_bad_agents_are_refused(db: Any, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as error:
        create_agent(actor=SYSTEM, **kwargs)
    assert error.value.field == field and not Agent.objects.exists()


def test_only_admins_add_agents_and_teams(agent: Agent) -> None:
    with pytest.raises(Forbidden):
        create_agent("new@deskhand.test", actor=Actor.agent(agent))
    with pytest.raises(Forbidden):
        create_team("Support", actor=Actor.agent(agent))


def test_teams_have_members(admin: Agent, agent: Agent) -> None:
    team = create_team("Support", members=[agent.pk], actor=Actor.agent(admin))
    assert list(team.members.all()) == [agent]
    with pytest.raises(Conflict):
        create_team("support", actor=Actor.agent(admin))
    with pytest.raises(Invalid) as error:
        create_team("Sales", members=[999], actor=Actor.agent(admin))
    assert error.value.field == "members"


def test_ensure_admin_creates_then_repairs_the_configured_admin(db: Any) -> None:
    admin = ensure_admin("boss@deskhand.test", password="first-password-1", actor=SYSTEM)
    assert admin.is_admin and admin.check_password("first-password-1")
    Agent.objects.filter(pk=admin.pk).update(is_admin=False)
    again = ensure_admin("BOSS@deskhand.test", password="second-password-2", actor=SYSTEM)
    assert again.pk == admin.pk and again.is_admin and again.check_password("second-password-2")
    assert Agent.objects.count() == 1
