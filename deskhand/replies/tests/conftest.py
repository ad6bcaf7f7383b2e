from __future__ import annotations

from typing import Any

import pytest

from deskhand.agents.models import Agent
from deskhand.agents.services import create_agent
from deskhand.core.actors import Actor
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item
from deskhand.work.services.items import submit_ticket


@pytest.fixture
def ticket(db: Any, agent_actor: Actor) -> Item:
    return submit_ticket(ItemDraft(title="Printer on fire", description="Third floor.",
                                   requester_email="bob.stone@acme.example", requester_name="Bob Stone"),
                         actor=agent_actor)


@pytest.fixture
def bea(admin: Agent) -> Agent:
    return create_agent("bea@deskhand.test", name="Bea Agent", password="correct-horse-9", actor=Actor.agent(admin))
