from __future__ import annotations

from typing import Any

import pytest

from deskhand.agents.models import Agent, Team
from deskhand.agents.services import create_team
from deskhand.core.actors import Actor
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item
from deskhand.work.services.items import submit_ticket


@pytest.fixture
def ticket(db: Any, agent_actor: Actor) -> Item:
    return submit_ticket(ItemDraft(title="Printer on fire", description="Third floor.", requester_email="bob@acme.example"), actor=agent_actor)


@pytest.fixture
def team(admin: Agent, admin_actor: Actor) -> Team:
    return create_team("Second line", members=[admin.pk], actor=admin_actor)
