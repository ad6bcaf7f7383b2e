from __future__ import annotations

from typing import Any

import pytest

from deskhand.audit.models import AuditEvent
from deskhand.config.queries import DEFAULTS, get_settings
from deskhand.config.services import MAX_CATCH_ALL_DOMAINS, MAX_EXTRA_FREE_MAIL, update_settings
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


def test_catch_all_domains_are_stored_normalised_deduplicated_and_sorted(db: Any) -> None:
    result = update_settings({"smtp_catch_all_domains": [" Zeta.Example. ", "@alpha.example", "ALPHA.example",
                                                         "bücher.example", "zeta.example"]}, actor=SYSTEM)
    assert result["smtp_catch_all_domains"] == ["alpha.example", "xn--bcher-kva.example", "zeta.example"]
    assert get_settings()["smtp_catch_all_domains"] == result["smtp_catch_all_domains"]
    assert AuditEvent.objects.get(action="settings.updated").changes["smtp_catch_all_domains"]["old"] == []


@pytest.mark.parametrize(("value", "code", "message"), [
    (["not a domain"], "invalid_domain", "“not a domain” is not a valid domain name, such as acme.com."),
    (["x" * 300], "invalid_domain", "A domain has at most 253 characters."),
    (["@"], "invalid_domain", "Enter a domain such as acme.com."),
    ([""], "invalid_domain", "Enter a domain such as acme.com."),
    ([None], "invalid_domain", "Enter a domain such as acme.com."),
    (["ok.example", ["nested.example"]], "invalid_domain", "Enter a domain such as acme.com."),
    # An address would open its whole domain to mail: the admin meant a ticket address.
    (["sales@example.com"], "invalid_domain", "Enter a domain such as acme.com, not an address."),
    ("example.com", "invalid_setting", "smtp_catch_all_domains is a list of domains."),
    ([f"d{n}.example" for n in range(MAX_CATCH_ALL_DOMAINS + 1)], "too_many_domains",
     f"There can be at most {MAX_CATCH_ALL_DOMAINS} catch-all domains."),
])
def test_bad_catch_all_domains_change_nothing(db: Any, value: Any, code: str, message: str) -> None:
    update_settings({"smtp_catch_all_domains": ["kept.example"]}, actor=SYSTEM)
    with pytest.raises(Invalid) as error:
        update_settings({"smtp_catch_all_domains": value}, actor=SYSTEM)
    assert (error.value.code, error.value.field, error.value.message) == (code, "smtp_catch_all_domains", message)
    assert get_settings()["smtp_catch_all_domains"] == ["kept.example"]


def test_domain_lists_are_bounded_after_duplicates_are_dropped(db: Any) -> None:
    full = [f"d{n}.example" for n in range(MAX_CATCH_ALL_DOMAINS)]
    result = update_settings({"smtp_catch_all_domains": full + ["D0.example"] * 10_000}, actor=SYSTEM)
    assert result["smtp_catch_all_domains"] == sorted(full)
    # Free-mail domains keep their own, larger bound, and an address still stands for its domain there.
    result = update_settings({"extra_free_mail_domains": ["jim@Mail.example"]}, actor=SYSTEM)
    assert result["extra_free_mail_domains"] == ["mail.example"]
    with pytest.raises(Invalid, match=f"at most {MAX_EXTRA_FREE_MAIL} extra free-mail domains"):
        update_settings({"extra_free_mail_domains": [f"d{n}.example" for n in range(MAX_EXTRA_FREE_MAIL + 1)]},
                        actor=SYSTEM)


def test_widget_origins_are_cut_to_origins_normalised_and_sorted(db: Any) -> None:
    result = update_settings({"widget_origins": [
        "https://WWW.Acme.com/support/page?x=1", "https://www.acme.com:443", "http://127.0.0.1:8080/",
        "https://bücher.de", "http://[::1]:9000"]}, actor=SYSTEM)
    assert result["widget_origins"] == ["http://127.0.0.1:8080", "http://[::1]:9000", "https://www.acme.com",
                                        "https://xn--bcher-kva.de"]


@pytest.mark.parametrize("value", [
    "https://acme.com", ["acme.com"], ["javascript:alert(1)"], ["ftp://acme.com"], ["https://user:pw@acme.com"],
    ["https://acme.com:99999"], [42], ["https://"], [f"https://site{n}.example" for n in range(51)],
])
def test_bad_widget_origins_change_nothing(db: Any, value: Any) -> None:
    with pytest.raises(Invalid) as error:
        update_settings({"widget_origins": value}, actor=SYSTEM)
    assert error.value.field == "widget_origins"
    assert get_settings()["widget_origins"] == []


def test_widget_apps_form_and_label(db: Any) -> None:
    result = update_settings({"widget_apps": ["chat", "kb"], "widget_form": "contact-us", "widget_label": "  Hilfe  "},
                             actor=SYSTEM)
    assert (result["widget_apps"], result["widget_form"], result["widget_label"]) == (["kb", "chat"], "contact-us", "Hilfe")
    for bad in ({"widget_apps": ["faq"]}, {"widget_form": "../etc"}, {"widget_label": "x" * 41}):
        with pytest.raises(Invalid):
            update_settings(bad, actor=SYSTEM)
