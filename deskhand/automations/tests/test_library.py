"""The automation library: every ready rule is a valid rule, added with one click."""

from __future__ import annotations

import pytest

from deskhand.automations.library import LIBRARY, add_from_library
from deskhand.automations.models import Automation
from deskhand.core.actors import Actor
from deskhand.core.errors import Invalid


def test_every_library_rule_can_be_added(admin_actor: Actor) -> None:
    assert len(LIBRARY) >= 12
    for entry in LIBRARY:
        row = add_from_library(entry.key, actor=admin_actor)
        assert row.enabled and row.name
    assert Automation.objects.count() == len(LIBRARY)
    with pytest.raises(Invalid):
        add_from_library("make_coffee", actor=admin_actor)
