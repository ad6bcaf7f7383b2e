"""Fixtures for every test. State is built through the services, as users would build it."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from deskhand.agents.models import Agent
from deskhand.agents.services import create_agent, issue_token
from deskhand.core.actors import SYSTEM, Actor
from deskhand.work.services.statuses import ensure_default_workflow


def pytest_report_header(config: pytest.Config) -> str:
    database = settings.DATABASES["default"]
    where = database["NAME"] if settings.DATABASE_VENDOR == "sqlite" else f"{database['HOST']}:{database['PORT']}"
    return f"database backend: {settings.DATABASE_VENDOR} ({where})"


@pytest.fixture(autouse=True, scope="session")
def fast_password_hasher() -> None:
    """Real hashing costs ~0.3 s a password by design; tests create hundreds of agents."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def chat_readers_closed(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """Live chat's event streams read on a pool of threads that keep their database connections;
    they are closed before the test database is dropped (PostgreSQL refuses to drop a database in use)."""
    yield
    from deskhand.chat.stream import close_readers

    with django_db_blocker.unblock():
        close_readers()


@pytest.fixture(autouse=True)
def sign_in_limiter() -> None:
    """The sign-in limiter keeps its failures in the database, which each test rolls back (and the
    browser tests flush); the process cache is emptied too, so no test inherits another's counts."""
    cache.clear()


@pytest.fixture(autouse=True)
def default_workflow(request: pytest.FixtureRequest) -> None:
    """Tests that commit (the browser tests) end by emptying every table, the seeded ticket and
    task workflows included; every database test starts with them."""
    if request.node.get_closest_marker("django_db") is None:
        if "db" not in request.fixturenames:
            return
        request.getfixturevalue("db")
    ensure_default_workflow()


@pytest.fixture
def admin(db: Any) -> Agent:
    return create_agent("admin@deskhand.test", name="Ada Admin", password="correct-horse-9", is_admin=True,
                        actor=SYSTEM)


@pytest.fixture
def agent(db: Any, admin: Agent) -> Agent:
    return create_agent("ana@deskhand.test", name="Ana Agent", password="correct-horse-9",
                        actor=Actor.agent(admin))


@pytest.fixture
def admin_actor(admin: Agent) -> Actor:
    return Actor.agent(admin)


@pytest.fixture
def agent_actor(agent: Agent) -> Actor:
    return Actor.agent(agent)


class ApiClient:
    """JSON calls to /api/v1 with a bearer token."""

    def __init__(self, token: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, data: Any = None, **kwargs: Any) -> Any:
        url = f"/api/v1{path}"
        if method in ("get", "delete"):
            return getattr(self.client, method)(url, data, headers=self.headers, **kwargs)
        return getattr(self.client, method)(url, data, content_type="application/json", headers=self.headers,
                                            **kwargs)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._call("get", path, params)

    def post(self, path: str, data: Any = None) -> Any:
        return self._call("post", path, data)

    def patch(self, path: str, data: Any = None) -> Any:
        return self._call("patch", path, data)

    def put(self, path: str, data: Any = None) -> Any:
        return self._call("put", path, data)

    def delete(self, path: str) -> Any:
        return self._call("delete", path)


@pytest.fixture
def admin_client(admin: Agent) -> Client:
    """A browser signed in to the agents' app as the admin."""
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def agent_client(agent: Agent) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def api(admin: Agent) -> ApiClient:
    """An API client acting as the admin."""
    _token, plain = issue_token(admin, name="tests", actor=SYSTEM)
    return ApiClient(plain)


@pytest.fixture
def agent_api(agent: Agent) -> ApiClient:
    """An API client acting as an agent who is not an admin."""
    _token, plain = issue_token(agent, name="tests", actor=SYSTEM)
    return ApiClient(plain)
