"""The quick-start presets: what they will change, shown first, then changed in one step."""

from __future__ import annotations

import pytest

from deskhand.automations.models import Automation
from deskhand.automations.presets import apply_preset, preview
from deskhand.automations.samples import ensure_samples
from deskhand.config.queries import get_settings
from deskhand.core.actors import Actor
from deskhand.core.errors import Forbidden, Invalid


def test_external_then_internal(admin_actor: Actor) -> None:
    ensure_samples()
    changes = preview("external")
    assert ("Default view", "by portfolio", "by customer") in [(c.what, c.old, c.new) for c in changes]
    assert ("Customer project for every new ticket", "off", "on") in [(c.what, c.old, c.new) for c in changes]
    apply_preset("external", actor=admin_actor)
    assert get_settings()["default_view"] == "by_customer"
    assert set(Automation.objects.filter(enabled=True).values_list("sample", flat=True)) == {
        "sla", "survey", "task_status", "reopen", "customer_project"}
    assert preview("external") == []
    apply_preset("internal", actor=admin_actor)
    settings = get_settings()
    assert (settings["default_view"], settings["portal_visibility"], settings["auto_create_organizations"]) == (
        "by_portfolio", "requested", False)
    assert set(Automation.objects.filter(enabled=True).values_list("sample", flat=True)) == {"task_status", "reopen"}


def test_only_admins_and_only_known_presets(agent_actor: Actor) -> None:
    with pytest.raises(Invalid):
        preview("cosy")
    with pytest.raises(Forbidden):
        apply_preset("external", actor=agent_actor)
