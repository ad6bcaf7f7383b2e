from __future__ import annotations

from typing import Any

import pytest

from deskhand.audit.models import AuditEvent
from deskhand.core.actors import SYSTEM
from deskhand.core.errors import Conflict, Invalid
from deskhand.customers.inputs import OrganizationChanges
from deskhand.customers.models import Customer, Organization, OrganizationDomain, Source
from deskhand.customers.services import (
    create_organization,
    delete_organization,
    find_or_create_customer,
    get_or_create_organization_by_name,
    merge_organizations,
    move_customer,
    update_organization,
)
from deskhand.fields.services import create_custom_field


def test_an_organization_needs_only_a_name(db: Any) -> None:
    organization = create_organization("  Acme   Inc. ", actor=SYSTEM)
    assert organization.name == "Acme Inc." and not organization.domains.exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_bad_name_is_refused(db: Any, name: str) -> None:
    with pytest.raises(Invalid) as error:
        create_organization(name, actor=SYSTEM)
    assert error.value.field == "name"
    assert not Organization.objects.exists()


def test_names_are_unique_regardless_of_case(db: Any) -> None:
    create_organization("Acme", actor=SYSTEM)
    with pytest.raises(Conflict):
        create_organization("ACME", actor=SYSTEM)


def test_several_domains_at_creation(db: Any) -> None:
    organization = create_organization("Acme", domains=["acme.com", "@Acme.DE", "acme.com"], actor=SYSTEM)
    assert sorted(organization.domains.values_list("domain", flat=True)) == ["acme.com", "acme.de"]


def test_a_taken_domain_at_creation_creates_nothing(db: Any) -> None:
    create_organization("Acme", domains=["acme.com"], actor=SYSTEM)
    with pytest.raises(Conflict):
        create_organization("Copycat", domains=["copycat.com", "acme.com"], actor=SYSTEM)
    assert not Organization.objects.filter(name="Copycat").exists()
    assert not OrganizationDomain.objects.filter(domain="copycat.com").exists()


def test_a_bad_domain_at_creation_creates_nothing(db: Any) -> None:
    with pytest.raises(Invalid) as error:
        create_organization("Acme", domains=["acme.com", "gmail.com"], actor=SYSTEM)
    assert error.value.field == "domains"
    assert not Organization.objects.exists()


def test_renaming_is_audited_with_old_and_new(db: Any) -> None:
    organization = create_organization("Acme", actor=SYSTEM)
    update_organization(organization, changes=OrganizationChanges(name="Acme Corp"), actor=SYSTEM)
    event = AuditEvent.objects.filter(action="organization.updated").get()
    assert event.changes == {"name": {"old": "Acme", "new": "Acme Corp"}}


def test_deleting_an_organization_keeps_its_customers_unassigned(db: Any) -> None:
    organization = create_organization("Acme", domains=["acme.com"], actor=SYSTEM)
    ana, _ = find_or_create_customer("ana@acme.com", source=Source.EMAIL, actor=SYSTEM)
    bob = move_customer(find_or_create_customer("bob@acme.com", source=Source.EMAIL, actor=SYSTEM)[0],
                        to=organization, actor=SYSTEM)
    delete_organization(organization, actor=SYSTEM)
    assert Customer.objects.count() == 2
    assert set(Customer.objects.values_list("organization", flat=True)) == {None}
    assert not OrganizationDomain.objects.exists()
    assert AuditEvent.objects.filter(action="customer.moved", object_id__in=[ana.pk, bob.pk]).count() == 2
    assert AuditEvent.objects.filter(action="organization.deleted").get().changes["customers_unassigned"] == 2


def test_merging_moves_domains_and_customers_to_the_survivor(db: Any) -> None:
    old = create_organization("Acme (old)", domains=["acme-old.com"], custom_fields=None, actor=SYSTEM)
    survivor = create_organization("Acme", domains=["acme.com"], actor=SYSTEM)
    ana, _ = find_or_create_customer("ana@acme-old.com", source=Source.EMAIL, actor=SYSTEM)
    merged = merge_organizations(old, into=survivor, actor=SYSTEM)
    ana.refresh_from_db()
    assert ana.organization == merged == survivor
    assert sorted(survivor.domains.values_list("domain", flat=True)) == ["acme-old.com", "acme.com"]
    assert not Organization.objects.filter(pk=old.pk).exists()
    event = AuditEvent.objects.get(action="organization.merged")
    assert event.changes["customers"] == 1 and event.changes["domains"] == ["acme-old.com"]
    later, _ = find_or_create_customer("bob@acme-old.com", source=Source.EMAIL, actor=SYSTEM)
    assert later.organization == survivor


def test_merging_keeps_the_survivors_values_and_fills_gaps(db: Any) -> None:
    create_custom_field(applies_to="organization", label="Tier", type="text", actor=SYSTEM)
    create_custom_field(applies_to="organization", label="Region", type="text", actor=SYSTEM)
    old = create_organization("Old", custom_fields={"tier": "gold", "region": "EU"}, actor=SYSTEM)
    survivor = create_organization("New", custom_fields={"tier": "silver"}, actor=SYSTEM)
    merge_organizations(old, into=survivor, actor=SYSTEM)
    survivor.refresh_from_db()
    assert survivor.custom_fields == {"tier": "silver", "region": "EU"}


def test_an_organization_cannot_merge_into_itself(db: Any) -> None:
    organization = create_organization("Acme", actor=SYSTEM)
    with pytest.raises(Invalid):
        merge_organizations(organization, into=organization, actor=SYSTEM)


def test_get_or_create_by_name_finds_regardless_of_case(db: Any) -> None:
    organization = create_organization("Acme", actor=SYSTEM)
    assert get_or_create_organization_by_name("ACME", source=Source.CSV, actor=SYSTEM) == organization
    created = get_or_create_organization_by_name("Globex", source=Source.CSV, actor=SYSTEM)
    assert created.name == "Globex" and created.source == "csv"
