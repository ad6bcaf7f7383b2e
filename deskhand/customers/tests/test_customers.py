from __future__ import annotations

from typing import Any

import pytest

from deskhand.audit.models import AuditEvent
from deskhand.core.actors import SYSTEM
from deskhand.core.errors import Conflict, Invalid
from deskhand.customers.inputs import CustomerChanges
from deskhand.customers.models import Customer, Source
from deskhand.customers.queries import customer_list, find_customer_by_email
from deskhand.customers.services import (
    create_customer,
    create_customer_type,
    create_organization,
    delete_customer,
    find_or_create_customer,
    merge_customers,
    move_customer,
    update_customer,
)
from deskhand.fields.services import create_custom_field


def _customer(email: str = "ana@acme.com", **kwargs: Any) -> Customer:
    return create_customer(email, source=Source.API, actor=SYSTEM, **kwargs)


def test_moving_a_customer_is_remembered_as_manual_and_audited(db: Any) -> None:
    ana = _customer()
    filed_under = ana.organization_id
    other = create_organization("Other", actor=SYSTEM)
    move_customer(ana, to=other, actor=SYSTEM)
    ana.refresh_from_db()
    assert ana.organization == other and ana.placed_manually
    event = AuditEvent.objects.get(action="customer.moved", object_id=ana.pk)
    assert event.changes["organization"] == {"old": filed_under, "new": other.pk}


def test_updating_details(db: Any) -> None:
    gold = create_customer_type("Gold", actor=SYSTEM)
    ana = _customer()
    update_customer(ana, changes=CustomerChanges(name=" Ana  Smith ", phone="+49 (30) 1234-56", language="pt-BR", customer_type="gold", notes="Prefers email."), actor=SYSTEM)
    ana.refresh_from_db()
    assert (ana.name, ana.phone, ana.language, ana.customer_type, ana.notes) == (
        "Ana Smith", "+49 (30) 1234-56", "pt-BR", gold, "Prefers email.")
    event = AuditEvent.objects.get(action="customer.updated")
    assert event.changes["name"] == {"old": "", "new": "Ana Smith"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [(CustomerChanges(name="x" * 201), "name"), (CustomerChanges(phone="call me"), "phone"),
     (CustomerChanges(language="english please"), "language"), (CustomerChanges(customer_type="Nope"), "customer_type"),
     (CustomerChanges(customer_type=999_999), "customer_type"), (CustomerChanges(email="broken"), "email"),
     (CustomerChanges(name="Bo", email="broken"), "email"), (CustomerChanges(notes="\x00"), "notes"),
     (CustomerChanges(custom_fields={"nope": 1}), "custom_fields.nope")],
)
def test_bad_updates_change_nothing(db: Any, changes: CustomerChanges, field: str) -> None:
    ana = _customer(name="Ana")
    with pytest.raises(Invalid) as error:
        update_customer(ana, changes=changes, actor=SYSTEM)
    assert error.value.field == field
    ana.refresh_from_db()
    assert ana.name == "Ana" and ana.email == "ana@acme.com"


def test_changing_the_address_to_one_in_use_is_a_conflict(db: Any) -> None:
    ana = _customer()
    _customer("bob@acme.com")
    with pytest.raises(Conflict):
        update_customer(ana, changes=CustomerChanges(email="BOB@acme.com"), actor=SYSTEM)


def test_a_new_address_does_not_refile_the_customer(db: Any) -> None:
    ana = _customer()
    organization_id = ana.organization_id
    update_customer(ana, changes=CustomerChanges(email="ana@globex.com"), actor=SYSTEM)
    ana.refresh_from_db()
    assert ana.email == "ana@globex.com" and ana.organization_id == organization_id


def test_merging_customers_fills_gaps_and_keeps_the_old_address_working(db: Any) -> None:
    create_custom_field(applies_to="customer", label="Plan", type="text", actor=SYSTEM)
    old = _customer("ana@old.com", name="Ana", phone="123", custom_fields={"plan": "pro"})
    survivor = _customer("ana@new.com")
    merge_customers(old, into=survivor, actor=SYSTEM)
    survivor.refresh_from_db()
    assert (survivor.name, survivor.phone, survivor.custom_fields) == ("Ana", "123", {"plan": "pro"})
    assert find_customer_by_email("ana@old.com") == survivor
    assert list(customer_list()) == [survivor]
    assert AuditEvent.objects.filter(action__startswith="customer.merged").count() == 2


def test_merging_into_itself_is_refused(db: Any) -> None:
    ana = _customer()
    with pytest.raises(Invalid):
        merge_customers(ana, into=ana, actor=SYSTEM)


def test_deleting_a_customer_also_forgets_addresses_merged_into_it(db: Any) -> None:
    old = _customer("ana@old.com")
    survivor = _customer("ana@new.com")
    merge_customers(old, into=survivor, actor=SYSTEM)
    delete_customer(survivor, actor=SYSTEM)
    assert not Customer.objects.exists()
    customer, created = find_or_create_customer("ana@old.com", source=Source.EMAIL, actor=SYSTEM)
    assert created


def test_required_custom_fields_bind_people_not_channels(db: Any) -> None:
    create_custom_field(applies_to="customer", label="Account number", type="text", required=True, actor=SYSTEM)
    with pytest.raises(Invalid) as error:
        _customer()
    assert error.value.field == "custom_fields.account_number"
    created, _ = find_or_create_customer("ana@acme.com", source=Source.EMAIL, actor=SYSTEM)
    assert created.custom_fields == {}


def test_list_search_matches_email_and_name(db: Any) -> None:
    _customer("ana@acme.com", name="Ana Smith")
    _customer("bob@globex.com", name="Bob")
    assert [c.email for c in customer_list(search="SMITH")] == ["ana@acme.com"]
    assert [c.email for c in customer_list(search="globex")] == ["bob@globex.com"]
