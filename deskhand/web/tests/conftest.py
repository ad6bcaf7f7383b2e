from __future__ import annotations

import pytest
from django.test import Client

from deskhand.agents.models import Agent


@pytest.fixture
def admin_client(admin: Agent) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def agent_client(agent: Agent) -> Client:
    client = Client()
    client.force_login(agent)
    return client

