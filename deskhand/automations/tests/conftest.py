from __future__ import annotations

from typing import Any

import pytest

from deskhand.agents.models import Agent, Team
from deskhand.agents.services import create_agent, create_team
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.models import Organization
from deskhand.customers.services import create_organization


@pytest.fixture
def acme(db: Any) -> Organization:
    return create_organization("Acme", domains=["acme.example"], actor=SYSTEM)


@pytest.fixture
def bea(admin: Agent) -> Agent:
    return create_agent("bea@deskhand.test", name="Bea Agent", password="correct-horse-9", actor=Actor.agent(admin))


@pytest.fixture
def first_line(agent: Agent, bea: Agent, admin_actor: Actor) -> Team:
    return create_team("First line", members=[agent.pk, bea.pk], actor=admin_actor)
