from __future__ import annotations

from typing import Any

import pytest

from deskhand.chat.inputs import ChatStart
from deskhand.chat.services import Started, start_chat


@pytest.fixture
def started(db: Any) -> Started:
    return start_chat(ChatStart(message="Hello, my printer is on fire", client="10.0.0.1", email="zoe@example.org",
                                name="Zoe", language="de"))


@pytest.fixture
def database_url() -> Any:
    from deskhand.system.tests.conftest import throwaway_database

    with throwaway_database() as url:
        yield url
