from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from playwright.sync_api import Browser

from deskhand.agents.models import Agent
from deskhand.testing.browsing import launch_chromium


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



@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, one per test module (Playwright cannot download its own here)."""
    yield from launch_chromium()
