from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from deskhand.testing.browsing import launch_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, one per test module (Playwright cannot download its own here)."""
    yield from launch_chromium()
