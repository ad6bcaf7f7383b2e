from __future__ import annotations

from typing import Any

import pytest

from deskhand.audit.models import AuditEvent
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.core.errors import Conflict, Invalid, NotFound
from deskhand.customers.models import Customer, OrganizationDomain, Source
from deskhand.customers.queries import unassigned_customers_for_domain
from deskhand.customers.services import (
    add_domain,
    create_organization,
    find_or_create_customer,
    move_customer,
    remove_domain,
)


@pytest.fixture
def acme(db: Any) -> Any:
    return create_organization("Acme Inc.", actor=SYSTEM)


@pytest.mark.parametrize("typed", ["@ACME.com", "acme.com ", " Acme.Com.", "jim@acme.com"])
def test_a_domain_is_stored_normalised_whatever_form_it_is_typed_in(acme: Any, typed: str) -> None:
    domain, moved = add_domain(acme, typed, actor=SYSTEM)
    assert domain == "acme.com" and moved == 0
    assert list(acme.domains.values_list("domain", flat=True)) == ["acme.com"]


def test_unicode_and_punycode_forms_are_the_same_domain(acme: Any) -> None:
    add_domain(acme, "Bücher.de", actor=SYSTEM)
    other = create_organization("Other", actor=SYSTEM)
    with pytest.raises(Conflict):
        add_domain(other, "xn--bcher-kva.de", actor=SYSTEM)
    assert OrganizationDomain.objects.get().domain == "xn--bcher-kva.de"


def test_a_domain_has_at_most_one_owner(acme: Any) -> None:
    add_domain(acme, "acme.com", actor=SYSTEM)
    other = create_organization("Other", actor=SYSTEM)
    with pytest.raises(Conflict) as error:
        add_domain(other, "ACME.com", actor=SYSTEM)
    assert error.value.field == "domain" and "Acme Inc." in error.value.message
    assert OrganizationDomain.objects.get().organization == acme


def test_adding_a_domain_twice_to_the_same_organization_is_harmless(acme: Any) -> None:
    add_domain(acme, "acme.com", actor=SYSTEM)
    add_domain(acme, "acme.com", actor=SYSTEM)
    assert acme.domains.count() == 1


@pytest.mark.parametrize(
    ("domain", "code"),
    [("com", "invalid_domain"), ("a..b", "invalid_domain"), ("co.uk", "public_suffix"),
     ("github.io", "public_suffix"), ("gmail.com", "free_mail_domain"), ("mailinator.com", "free_mail_domain"),
     ("", "invalid_domain"), ("acme_corp.com", "invalid_domain")],
)
def test_bad_domains_are_refused_and_change_nothing(acme: Any, domain: str, code: str) -> None:
    with pytest.raises(Invalid) as error:
        add_domain(acme, domain, actor=SYSTEM)
    assert error.value.code == code and error.value.field == "domain"
    assert not OrganizationDomain.objects.exists()


def test_an_extra_free_mail_domain_cannot_be_owned(acme: Any) -> None:
    update_settings({"extra_free_mail_domains": ["provider.example"]}, actor=SYSTEM)
    with pytest.raises(Invalid):
        add_domain(acme, "provider.example", actor=SYSTEM)


def _unassigned(email: str) -> Customer:
    customer, _ = find_or_create_customer(email, source=Source.EMAIL, actor=SYSTEM)
    return customer


def test_apply_to_existing_moves_unassigned_customers_of_the_domain(acme: Any) -> None:
    update_settings({"auto_create_organizations": False}, actor=SYSTEM)
    ana, bob, other = _unassigned("ana@acme.com"), _unassigned("bob@eu.acme.com"), _unassigned("cy@other.com")
    domain, moved = add_domain(acme, "acme.com", apply_to_existing=True, actor=SYSTEM)
    assert moved == 2
    for customer in (ana, bob, other):
        customer.refresh_from_db()
    assert ana.organization == acme and bob.organization == acme and other.organization is None
    moves = AuditEvent.objects.filter(action="customer.moved", object_id__in=[ana.pk, bob.pk])
    assert moves.count() == 2


def test_without_apply_to_existing_nobody_moves(acme: Any) -> None:
    update_settings({"auto_create_organizations": False}, actor=SYSTEM)
    ana = _unassigned("ana@acme.com")
    add_domain(acme, "acme.com", actor=SYSTEM)
    ana.refresh_from_db()
    assert ana.organization is None


def test_a_customer_placed_by_hand_is_never_moved_by_the_rule(acme: Any) -> None:
    update_settings({"auto_create_organizations": False}, actor=SYSTEM)
    placed = move_customer(_unassigned("ana@acme.com"), to=None, actor=SYSTEM)
    elsewhere_org = create_organization("Elsewhere", actor=SYSTEM)
    elsewhere = move_customer(_unassigned("bob@acme.com"), to=elsewhere_org, actor=SYSTEM)
    _, moved = add_domain(acme, "acme.com", apply_to_existing=True, actor=SYSTEM)
    placed.refresh_from_db()
    elsewhere.refresh_from_db()
    assert moved == 0
    assert placed.organization is None and elsewhere.organization == elsewhere_org


def test_customers_of_a_subdomain_owned_elsewhere_are_not_taken(acme: Any) -> None:
    update_settings({"auto_create_organizations": False}, actor=SYSTEM)
    europe = create_organization("Acme Europe", actor=SYSTEM)
    add_domain(europe, "eu.acme.com", actor=SYSTEM)
    update_settings({"auto_create_organizations": False}, actor=SYSTEM)
    stray = Customer.objects.get(pk=_unassigned("ana@acme.com").pk)
    assert list(unassigned_customers_for_domain(acme, "acme.com")) == [stray]


def test_removing_a_domain_keeps_its_customers(acme: Any) -> None:
    add_domain(acme, "acme.com", actor=SYSTEM)
    ana = _unassigned("ana@acme.com")
    remove_domain(acme, "ACME.com", actor=SYSTEM)
    ana.refresh_from_db()
    assert ana.organization == acme and not acme.domains.exists()
    with pytest.raises(NotFound):
        remove_domain(acme, "acme.com", actor=SYSTEM)
