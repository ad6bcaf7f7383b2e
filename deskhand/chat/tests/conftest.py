from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings

from deskhand.chat.inputs import ChatStart
from deskhand.chat.services import Started, start_chat


@pytest.fixture
def started(db: Any) -> Started:
    return start_chat(ChatStart(message="Hello, my printer is on fire", client="10.0.0.1", email="zoe@example.org",
                                name="Zoe", language="de"))


@pytest.fixture
def database_url() -> Any:
    """A new, empty database for a `deskhand serve` of its own ("" = SQLite in its data directory)."""
    if settings.DATABASE_VENDOR == "sqlite":
        yield ""
        return
    import psycopg

    database = settings.DATABASES["default"]
    name = f"deskhand_chat_{uuid.uuid4().hex[:8]}"
    admin_url = f"postgresql://{database['USER']}@{database['HOST']}:{database['PORT']}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
