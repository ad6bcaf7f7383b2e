from __future__ import annotations

from typing import Any

import pytest

from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Organization
from deskhand.customers.services import create_organization


@pytest.fixture
def acme(db: Any) -> Organization:
    return create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
