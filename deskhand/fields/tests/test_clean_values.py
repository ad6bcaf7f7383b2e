from __future__ import annotations

from typing import Any

import pytest

from deskhand.core.actors import SYSTEM
from deskhand.core.errors import Invalid
from deskhand.fields.services import clean_values, create_custom_field


@pytest.fixture
def fields(db: Any) -> None:
    for label, kind, extra in [
        ("Note", "text", {}), ("Seats", "number", {}), ("Renewal", "date", {}), ("Active", "boolean", {}),
        ("Tier", "choice", {"choices": ["Gold", "Silver"]}),
        ("Products", "multi_choice", {"choices": ["Mail", "Chat", "Phone"]}),
        ("Website", "url", {}), ("Billing email", "email", {}),
    ]:
        create_custom_field(applies_to="customer", label=label, type=kind, actor=SYSTEM, **extra)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"note": " hello "}, {"note": "hello"}),
        ({"seats": 12}, {"seats": 12}), ({"seats": "12"}, {"seats": 12}), ({"seats": 2.5}, {"seats": 2.5}),
        ({"renewal": "2027-01-31"}, {"renewal": "2027-01-31"}),
        ({"active": True}, {"active": True}), ({"active": "no"}, {"active": False}),
        ({"tier": "gold"}, {"tier": "Gold"}),
        ({"products": ["chat", "Mail"]}, {"products": ["Mail", "Chat"]}), ({"products": "Phone; Mail"},
                                                                          {"products": ["Mail", "Phone"]}),
        ({"website": "https://acme.com"}, {"website": "https://acme.com"}),
        ({"billing_email": "Billing@ACME.com"}, {"billing_email": "Billing@acme.com"}),
    ],
)
def test_values_are_checked_and_stored_in_one_form(fields: None, values: dict[str, Any], expected: dict[str, Any]) -> None:
    assert clean_values("customer", values, enforce_required=True) == expected


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"unknown": "x"}, "custom_fields.unknown"), ({"note": 5}, "custom_fields.note"),
        ({"seats": "many"}, "custom_fields.seats"), ({"seats": True}, "custom_fields.seats"),
        ({"seats": "nan"}, "custom_fields.seats"), ({"renewal": "31/01/2027"}, "custom_fields.renewal"),
        ({"active": "maybe"}, "custom_fields.active"), ({"tier": "Bronze"}, "custom_fields.tier"),
        ({"tier": ["Gold"]}, "custom_fields.tier"), ({"products": ["Fax"]}, "custom_fields.products"),
        ({"website": "javascript:alert(1)"}, "custom_fields.website"),
        ({"billing_email": "nope"}, "custom_fields.billing_email"),
    ],
)
def test_wrong_values_name_the_field(fields: None, values: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as error:
        clean_values("customer", values, enforce_required=True)
    assert error.value.field == field


def test_custom_fields_must_be_an_object(fields: None) -> None:
    with pytest.raises(Invalid) as error:
        clean_values("customer", ["note"], enforce_required=True)
    assert error.value.field == "custom_fields"


def test_an_empty_value_clears_and_existing_values_are_kept(fields: None) -> None:
    existing = {"note": "keep", "seats": 3}
    assert clean_values("customer", {"seats": None}, existing=existing, enforce_required=False) == {"note": "keep"}


def test_required_fields(db: Any) -> None:
    create_custom_field(applies_to="organization", label="Contract", type="text", required=True, actor=SYSTEM)
    with pytest.raises(Invalid) as error:
        clean_values("organization", {}, enforce_required=True)
    assert error.value.field == "custom_fields.contract"
    assert clean_values("organization", {}, enforce_required=False) == {}
    assert clean_values("customer", {}, enforce_required=True) == {}
