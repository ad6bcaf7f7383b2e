"""The quick-start presets of the seeds: set Deskhand up for internal end users (an IT team and its
colleagues) or for external ones (a company and its client companies) in one step, after showing
what will change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from deskhand.automations.inputs import AutomationChanges
from deskhand.automations.models import Automation
from deskhand.automations.rules import Action, ActionType, ItemKind, Rule, Trigger, TriggerType
from deskhand.automations.samples import ensure_samples
from deskhand.automations.services import create_automation, update_automation
from deskhand.config.queries import get_settings
from deskhand.config.services import update_settings
from deskhand.core.actors import Actor
from deskhand.core.errors import Invalid

CUSTOMER_PROJECT = "customer_project"
PRESETS = {"internal": "internal end users", "external": "external end users"}
SETTINGS: dict[str, dict[str, Any]] = {
    "internal": {"default_view": "by_portfolio", "portal_visibility": "requested", "auto_create_organizations": False},
    "external": {"default_view": "by_customer", "auto_create_organizations": True},
}
# Which rules each preset wants on (True) or off (False), by sample key.
RULES: dict[str, dict[str, bool]] = {
    "internal": {"sla": False, "survey": False, CUSTOMER_PROJECT: False},
    "external": {"sla": True, "survey": True, "task_status": True, "reopen": True, CUSTOMER_PROJECT: True},
}
SETTING_LABELS = {"default_view": "Default view", "portal_visibility": "Portal visibility",
                  "auto_create_organizations": "Auto-create organizations"}


@dataclass(frozen=True)
class Change:
    """One thing a preset changes, in words: `what` from `old` to `new`."""

    what: str
    old: str
    new: str


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value).replace("_", " ")


def _rule_rows() -> dict[str, Automation]:
    return {row.sample: row for row in Automation.objects.exclude(sample="")}


def preview(name: str) -> list[Change]:
    """What `apply_preset(name)` would change now (nothing is written)."""
    if name not in PRESETS:
        raise Invalid("unknown_preset", gettext("Choose internal or external."), field="preset")
    settings = get_settings()
    changes = [Change(SETTING_LABELS[key], _word(settings[key]), _word(value))
               for key, value in SETTINGS[name].items() if settings[key] != value]
    rows = _rule_rows()
    for key, wanted in RULES[name].items():
        row = rows.get(key)
        label = row.name if row is not None else "Customer project for every new ticket"
        now = row.enabled if row is not None else False
        if now != wanted and (row is not None or key == CUSTOMER_PROJECT):
            changes.append(Change(label, _word(now), _word(wanted)))
    return changes


@transaction.atomic
def apply_preset(name: str, *, actor: Actor) -> list[Change]:
    changes = preview(name)
    update_settings(dict(SETTINGS[name]), actor=actor)
    ensure_samples()
    rows = _rule_rows()
    if CUSTOMER_PROJECT not in rows and RULES[name].get(CUSTOMER_PROJECT):
        made = create_automation(Rule("Customer project for every new ticket", ItemKind.TICKET,
                                      Trigger(TriggerType.CREATED), actions=(Action(ActionType.CUSTOMER_PROJECT),)),
                                 actor=actor)
        Automation.objects.filter(pk=made.pk).update(sample=CUSTOMER_PROJECT)
        rows = _rule_rows()
    for key, wanted in RULES[name].items():
        row = rows.get(key)
        if row is not None and row.enabled != wanted:
            update_automation(row, changes=AutomationChanges(enabled=wanted), actor=actor)
    return changes
