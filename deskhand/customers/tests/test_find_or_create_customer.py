from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from deskhand.audit.models import AuditEvent
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.errors import Conflict, Invalid
from deskhand.customers.models import Customer, Organization, OrganizationDomain, Source
from deskhand.customers.services import (
    add_domain,
    create_customer,
    create_organization,
    find_or_create_customer,
    merge_customers,
)

EMAIL = Source.EMAIL


def test_only_an_email_is_needed_and_the_source_is_remembered(db: Any) -> None:
    customer, created = find_or_create_customer("ana@acme.com", source=EMAIL, actor=SYSTEM)
    assert created
    assert customer.email == "ana@acme.com" and customer.name == "" and customer.source == "email"


def test_a_new_company_domain_creates_an_organization_named_after_it(db: Any) -> None:
    customer, _ = find_or_create_customer("ana@acme.com", source=EMAIL, actor=SYSTEM)
    assert customer.organization is not None
    assert customer.organization.name == "acme.com"
    assert list(customer.organization.domains.values_list("domain", flat=True)) == ["acme.com"]
    assert customer.organization.source == "auto"
    assert not customer.placed_manually


def test_a_colleague_joins_the_same_organization(db: Any) -> None:
    ana, _ = find_or_create_customer("ana@acme.com", source=EMAIL, actor=SYSTEM)
    bob, _ = find_or_create_customer("Bob@ACME.com", source=EMAIL, actor=SYSTEM)
    assert bob.organization == ana.organization
    assert Organization.objects.count() == 1


def test_a_subdomain_files_under_the_organization_owning_its_parent(db: Any) -> None:
    acme = create_organization("Acme Inc.", domains=["acme.com"], actor=SYSTEM)
    customer, _ = find_or_create_customer("ana@support.eu.acme.com", source=EMAIL, actor=SYSTEM)
    assert customer.organization == acme
    assert Organization.objects.count() == 1


def test_the_nearest_owned_parent_wins(db: Any) -> None:
    acme = create_organization("Acme Inc.", domains=["acme.com"], actor=SYSTEM)
    europe = create_organization("Acme Europe", domains=["eu.acme.com"], actor=SYSTEM)
    assert find_or_create_customer("a@de.eu.acme.com", source=EMAIL, actor=SYSTEM)[0].organization == europe
    assert find_or_create_customer("b@us.acme.com", source=EMAIL, actor=SYSTEM)[0].organization == acme


def test_an_unowned_subdomain_creates_an_organization_for_its_registrable_domain(db: Any) -> None:
    customer, _ = find_or_create_customer("ana@mail.acme.co.uk", source=EMAIL, actor=SYSTEM)
    assert customer.organization.name == "acme.co.uk"
    later, _ = find_or_create_customer("bob@acme.co.uk", source=EMAIL, actor=SYSTEM)
    assert later.organization == customer.organization


@pytest.mark.parametrize("email", ["ana@gmail.com", "bob@outlook.com", "cy@yahoo.com", "dee@mailinator.com"])
def test_free_mail_and_disposable_senders_never_get_an_organization(db: Any, email: str) -> None:
    customer, _ = find_or_create_customer(email, source=EMAIL, actor=SYSTEM)
    assert customer.organization is None
    assert not Organization.objects.exists()


def test_an_admin_can_extend_the_free_mail_list(db: Any) -> None:
    update_settings({"extra_free_mail_domains": ["@Provider.example"]}, actor=SYSTEM)
    customer, _ = find_or_create_customer("ana@provider.example", source=EMAIL, actor=SYSTEM)
    assert customer.organization is None and not Organization.objects.exists()


def test_with_auto_create_off_new_domains_go_to_no_organization(db: Any) -> None:
    update_settings({"auto_create_organizations": False}, actor=SYSTEM)
    customer, _ = find_or_create_customer("ana@acme.com", source=EMAIL, actor=SYSTEM)
    assert customer.organization is None and not Organization.objects.exists()
    owner = create_organization("Owner", domains=["owned.com"], actor=SYSTEM)
    assert find_or_create_customer("bob@owned.com", source=EMAIL, actor=SYSTEM)[0].organization == owner


def test_addresses_are_unique_regardless_of_case(db: Any) -> None:
    first, created = find_or_create_customer("Ana.Smith@Acme.com", source=EMAIL, actor=SYSTEM)
    again, created_again = find_or_create_customer(" ana.smith@ACME.COM ", source=EMAIL, actor=SYSTEM)
    assert created and not created_again
    assert again.pk == first.pk
    assert again.email == "Ana.Smith@acme.com"  # the local part keeps the case it was first typed in
    with pytest.raises(Conflict) as error:
        create_customer("ANA.SMITH@acme.com", source=Source.API, actor=SYSTEM)
    assert error.value.field == "email"


def test_unicode_domains_are_stored_idna_encoded(db: Any) -> None:
    customer, _ = find_or_create_customer("jürgen@Bücher.de", source=EMAIL, actor=SYSTEM)
    assert customer.email == "jürgen@xn--bcher-kva.de"
    assert customer.organization.name == "bücher.de"
    assert find_or_create_customer("jürgen@xn--bcher-kva.de", source=EMAIL, actor=SYSTEM)[0].pk == customer.pk


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b", "x" * 65 + "@acme.com", "a@" + "b" * 250 + ".com"])
def test_invalid_addresses_change_nothing(db: Any, email: str) -> None:
    with pytest.raises(Invalid) as error:
        find_or_create_customer(email, source=EMAIL, actor=SYSTEM)
    assert error.value.field == "email"
    assert not Customer.objects.exists() and not Organization.objects.exists()


def test_an_invalid_detail_creates_neither_customer_nor_organization(db: Any) -> None:
    with pytest.raises(Invalid) as error:
        create_customer("ana@acme.com", phone="call me maybe", source=Source.API, actor=SYSTEM)
    assert error.value.field == "phone"
    assert not Customer.objects.exists() and not Organization.objects.exists()


def test_an_explicit_organization_is_a_manual_placement(db: Any) -> None:
    other = create_organization("Other", actor=SYSTEM)
    customer = create_customer("ana@acme.com", organization=other, source=Source.AGENT, actor=SYSTEM)
    assert customer.organization == other and customer.placed_manually
    assert not OrganizationDomain.objects.filter(domain="acme.com").exists()
    nobody = create_customer("bob@acme.com", organization=None, source=Source.AGENT, actor=SYSTEM)
    assert nobody.organization is None and nobody.placed_manually


def test_an_organization_name_already_in_use_gets_a_number(db: Any) -> None:
    create_organization("acme.com", actor=SYSTEM)
    customer, _ = find_or_create_customer("ana@acme.com", source=EMAIL, actor=SYSTEM)
    assert customer.organization.name == "acme.com (2)"


def test_a_merged_address_finds_the_survivor(db: Any) -> None:
    old, _ = find_or_create_customer("ana@old.com", source=EMAIL, actor=SYSTEM)
    new, _ = find_or_create_customer("ana@new.com", source=EMAIL, actor=SYSTEM)
    merge_customers(old, into=new, actor=SYSTEM)
    found, created = find_or_create_customer("ANA@old.com", source=EMAIL, actor=SYSTEM)
    assert not created and found.pk == new.pk


def test_creation_and_filing_are_audited(db: Any) -> None:
    actor = Actor.rule("test")
    customer, _ = find_or_create_customer("ana@acme.com", source=EMAIL, actor=actor)
    created = AuditEvent.objects.get(object_type="customer", object_id=customer.pk)
    assert created.action == "customer.created" and created.actor_label == "test"
    assert created.changes["filed"] == "auto-created organization"
    organization_event = AuditEvent.objects.get(object_type="organization", object_id=customer.organization_id)
    assert organization_event.actor_kind == "rule" and organization_event.changes["triggered_by"] == "test"


def test_adding_a_domain_affects_customers_created_afterwards(db: Any) -> None:
    update_settings({"auto_create_organizations": False}, actor=SYSTEM)
    before, _ = find_or_create_customer("ana@abc.com", source=EMAIL, actor=SYSTEM)
    example = create_organization("Example", actor=SYSTEM)
    add_domain(example, "abc.com", actor=SYSTEM)
    after, _ = find_or_create_customer("bob@abc.com", source=EMAIL, actor=SYSTEM)
    before.refresh_from_db()
    assert after.organization == example and before.organization is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_contacts_from_a_new_domain_create_one_organization() -> None:
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    results: list[Any] = []

    def contact(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            customer, _ = find_or_create_customer(f"person{index}@race.example", source=EMAIL, actor=SYSTEM)
            results.append(customer.organization_id)
        except Exception as exc:  # noqa: BLE001 - reported below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=contact, args=(index,)) for index in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [result for result in results if isinstance(result, Exception)], results
    assert Organization.objects.count() == 1
    assert set(results) == {Organization.objects.get().pk}
    assert Customer.objects.filter(organization__isnull=False).count() == threads_count


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_contacts_from_the_same_address_create_one_customer() -> None:
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    results: list[Any] = []

    def contact() -> None:
        try:
            barrier.wait(timeout=10)
            customer, _ = find_or_create_customer("same@race.example", source=EMAIL, actor=SYSTEM)
            results.append(customer.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=contact) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(set(results)) == 1 and not isinstance(results[0], Exception), results
    assert Customer.objects.count() == 1 and Organization.objects.count() == 1
