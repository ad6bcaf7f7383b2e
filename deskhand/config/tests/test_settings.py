from __future__ import annotations

from typing import Any

import pytest

from deskhand.audit.models import AuditEvent
from deskhand.config.queries import DEFAULTS, get_settings
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.errors import Forbidden, Invalid
from deskhand.fields.services import create_custom_field, delete_custom_field


def test_defaults(db: Any) -> None:
    settings = get_settings()
    assert settings == DEFAULTS
    assert settings["auto_create_organizations"] is True


def test_changes_are_stored_normalised_and_audited(db: Any) -> None:
    result = update_settings({"auto_create_organizations": False,
                              "extra_free_mail_domains": ["@Mail.Example", "mail.example", "bücher.de"]}, actor=SYSTEM)
    assert result["auto_create_organizations"] is False
    assert result["extra_free_mail_domains"] == ["mail.example", "xn--bcher-kva.de"]
    event = AuditEvent.objects.get(action="settings.updated")
    assert event.changes["auto_create_organizations"] == {"old": True, "new": False}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"auto_create_organizations": "yes"}, "auto_create_organizations"),
        ({"extra_free_mail_domains": ["a..b"]}, "extra_free_mail_domains"),
        ({"extra_free_mail_domains": "gmail.com"}, "extra_free_mail_domains"),
        ({"portal_visibility": "everyone"}, "portal_visibility"),
        ({"default_view": "by_moon"}, "default_view"),
        ({"customer_panel": ["email", "shoe_size"]}, "customer_panel"),
        ({"customer_panel": ["custom_fields.missing"]}, "customer_panel"),
        ({"enabled_views": ["by_customer"]}, "default_view"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_values_change_nothing(db: Any, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as error:
        update_settings({"auto_create_organizations": False, **changes}, actor=SYSTEM)
    assert error.value.field == field
    assert get_settings() == DEFAULTS


def test_detail_panels_hold_properties_and_custom_fields_in_order(db: Any) -> None:
    field = create_custom_field(applies_to="customer", label="Plan", type="text", actor=SYSTEM)
    settings = update_settings({"customer_panel": ["custom_fields.plan", "email", "customer_type"]}, actor=SYSTEM)
    assert settings["customer_panel"] == ["custom_fields.plan", "email", "customer_type"]
    delete_custom_field(field, actor=SYSTEM)
    assert get_settings()["customer_panel"] == ["email", "customer_type"]


def test_only_admins_change_settings(db: Any) -> None:
    with pytest.raises(Forbidden):
        update_settings({"auto_create_organizations": False}, actor=Actor.rule("x"))
