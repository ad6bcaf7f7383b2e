"""The rules of DESIGN §2: the only code that creates, files, moves, merges or deletes customers
and organizations. Every entry point (web, API, mail, portal, CSV, CLI) calls these."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Final

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from deskhand.audit.models import AuditEvent
from deskhand.audit.services import diff, event, record, record_many
from deskhand.config.queries import PORTAL_VISIBILITY, get_settings
from deskhand.core.actors import Actor
from deskhand.core.emailaddr import AddressError, EmailAddress, display_domain, normalize_domain, parse_email
from deskhand.core.errors import Conflict, Forbidden, Invalid, NotFound
from deskhand.core.inputs import UNSET, given
from deskhand.core.text import clean_text
from deskhand.customers.domains import (
    candidate_domains,
    domain_from_pasted,
    is_free_mail,
    is_public_suffix,
    registrable_domain,
)
from deskhand.customers.inputs import CustomerChanges, CustomerTypeChanges, CustomerTypeRef, OrganizationChanges
from deskhand.customers.models import Customer, CustomerType, Organization, OrganizationDomain, Source
from deskhand.customers.queries import (
    People,
    domain_owner,
    filing_for_domain,
    find_customer_by_email,
    organizations_by_name,
    read_people,
    unassigned_customers_for_domain,
)
from deskhand.fields.models import CustomField
from deskhand.fields.services import clean_values


class _Auto(Enum):
    AUTO = "auto"


AUTO: Final = _Auto.AUTO
"""`organization=AUTO`: let the domain rule decide (the default). `None` means "No organization"."""

# Customers typed in by people must fill required custom fields; those created by a channel
# (someone's first email, a portal sign-up) cannot, and are still created.
PEOPLE_SOURCES = {Source.AGENT, Source.API, Source.CSV, Source.CLI}
AUTO_CREATE_RULE = Actor.rule("auto-create organizations")
PHONE_PATTERN = re.compile(r"^[0-9+()./\- ]*(?:(?:ext|x)\.? ?[0-9]+)?$", re.IGNORECASE)
LANGUAGE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_VISIBLE_TYPES = 10
BULK = 500


# -- input cleaning: one place for the shape of each value --------------------------------------


def _text(value: str, *, field: str, max_length: int, required: bool = False, single_line: bool = True) -> str:
    return clean_text(value, field=field, max_length=max_length, required=required, multiline=not single_line)


def _phone(value: str) -> str:
    phone = _text(value, field="phone", max_length=50)
    if not PHONE_PATTERN.fullmatch(phone):
        raise Invalid("invalid_phone", gettext("A phone number has digits, spaces and + ( ) - . / only."), field="phone")
    return phone


def _language(value: str) -> str:
    language = _text(value, field="language", max_length=16)
    if language and not LANGUAGE_PATTERN.fullmatch(language):
        raise Invalid("invalid_language", gettext("A language is a code such as en, de or pt-BR."), field="language")
    return language


def _address(email: str) -> EmailAddress:
    try:
        return parse_email(email)
    except AddressError as exc:
        raise Invalid("invalid_email", str(exc), field="email") from None


def resolve_customer_type(value: CustomerTypeRef) -> CustomerType | None:
    """A customer type given by id or by name (case-insensitive); None clears it."""
    if value is None or value == "":
        return None
    if isinstance(value, CustomerType):
        return value
    if isinstance(value, int):
        found = CustomerType.objects.filter(pk=value).first()
    else:
        name = clean_text(value, field="customer_type", max_length=100)
        found = CustomerType.objects.filter(name__iexact=name).first()
    if found is None:
        raise Invalid("unknown_customer_type", gettext("There is no customer type “%(value)s”.") % {"value": value}, field="customer_type")
    return found


def check_domain(raw: str, *, field: str = "domain", extra_free_mail: list[str] | None = None) -> str:
    """A domain an organization may own, normalised; free mail and public suffixes are refused."""
    try:
        domain = normalize_domain(domain_from_pasted(raw) if isinstance(raw, str) else raw)
    except AddressError as exc:
        raise Invalid("invalid_domain", str(exc), field=field) from None
    if is_public_suffix(domain) or registrable_domain(domain) is None:
        raise Invalid("public_suffix", gettext("%(domain)s is a public suffix: anyone can register "
                      "under it, so no organization can own it.") % {"domain": display_domain(domain)}, field=field)
    extra = get_settings()["extra_free_mail_domains"] if extra_free_mail is None else extra_free_mail
    if is_free_mail(domain, extra):
        raise Invalid("free_mail_domain", gettext("%(domain)s is a free-mail or disposable provider: "
                      "its users are not one organization.") % {"domain": display_domain(domain)}, field=field)
    return domain


def _customer_state(customer: Customer) -> dict[str, Any]:
    return {
        "email": customer.email,
        "name": customer.name,
        "phone": customer.phone,
        "language": customer.language,
        "notes": customer.notes,
        "customer_type": customer.customer_type.name if customer.customer_type else None,
        "organization": customer.organization_id,
        "custom_fields": customer.custom_fields,
    }


def _organization_state(organization: Organization) -> dict[str, Any]:
    return {"name": organization.name, "notes": organization.notes, "custom_fields": organization.custom_fields,
            "portal_visibility": organization.portal_visibility or None}


def _record_customer(customer: Customer, action: str, *, actor: Actor, changes: dict[str, Any]) -> None:
    record(actor=actor, action=action, object_type="customer", object_id=customer.pk,
           object_label=customer.email, changes=changes)


def _record_organization(organization: Organization, action: str, *, actor: Actor,
                         changes: dict[str, Any] | None = None) -> None:
    record(actor=actor, action=action, object_type="organization", object_id=organization.pk,
           object_label=organization.name, changes=changes)


def _record_moves(customer_ids: list[int], *, actor: Actor, old: int | None, new: int | None, reason: str) -> None:
    """One audit row per moved customer, written in bulk."""
    label = actor.label[:300]
    for start in range(0, len(customer_ids), BULK):
        AuditEvent.objects.bulk_create(
            AuditEvent(
                actor_kind=str(actor.kind), actor_label=label, actor_agent_id=actor.agent_id,
                actor_token_id=actor.token_id, action="customer.moved", object_type="customer",
                object_id=customer_id, changes={"organization": {"old": old, "new": new}, "reason": reason},
            )
            for customer_id in customer_ids[start:start + BULK]
        )


# -- organizations ------------------------------------------------------------------------------


def _free_organization_name(base: str, *, also_taken: Iterable[str] = ()) -> str:
    """`base (2)`, `base (3)`…: the first name no organization has (`base` itself is taken), nor
    any of `also_taken` (lower-cased names a batch is about to give)."""
    taken = {
        name.lower()
        for name in Organization.objects.filter(name__istartswith=f"{base} (").values_list("name", flat=True)
    } | set(also_taken)
    number = 2
    while f"{base} ({number})".lower() in taken:
        number += 1
    return f"{base} ({number})"


def check_domain_free(organization: Organization, domain: str) -> bool:
    """Refuse a domain another organization owns (Conflict); True when `organization` owns it
    already. The add-domain preview asks this before offering the change."""
    owner = domain_owner(domain)
    if owner is not None and owner.pk != organization.pk:
        raise Conflict("domain_taken", gettext("%(domain)s belongs to “%(name)s”.") % {"domain": display_domain(domain), "name": owner.name}, field="domain")
    return owner is not None


def _attach_domain(organization: Organization, domain: str, *, apply_to_existing: bool, actor: Actor) -> int:
    owned = check_domain_free(organization, domain)
    if not owned:
        try:
            with transaction.atomic():
                OrganizationDomain.objects.create(organization=organization, domain=domain)
        except IntegrityError:
            raise Conflict("domain_taken", gettext("%(domain)s belongs to another organization.") % {"domain": display_domain(domain)},
                           field="domain") from None
        _record_organization(organization, "organization.domain_added", actor=actor, changes={"domain": domain})
    if not apply_to_existing:
        return 0
    ids = list(unassigned_customers_for_domain(organization, domain).values_list("pk", flat=True))
    now = timezone.now()
    for start in range(0, len(ids), BULK):
        Customer.objects.filter(pk__in=ids[start:start + BULK]).update(organization=organization, updated_at=now)
    _record_moves(ids, actor=actor, old=None, new=organization.pk, reason=f"domain {domain} added to organization")
    if ids:
        _record_organization(organization, "organization.domain_applied", actor=actor,
                             changes={"domain": domain, "moved_customers": len(ids)})
    return len(ids)


@transaction.atomic
def create_organization(
    name: str,
    *,
    domains: Sequence[str] = (),
    notes: str = "",
    custom_fields: Mapping[str, Any] | None = None,
    apply_to_existing: bool = False,
    source: Source = Source.AGENT,
    actor: Actor,
) -> Organization:
    """A new organization; only the name is required. Its domains follow `add_domain`'s rules."""
    name = _text(name, field="name", max_length=200, required=True)
    extra = get_settings()["extra_free_mail_domains"]
    cleaned_domains = list(dict.fromkeys(check_domain(domain, field="domains", extra_free_mail=extra)
                                         for domain in domains))
    values = clean_values("organization", custom_fields, enforce_required=source in PEOPLE_SOURCES)
    notes = _text(notes, field="notes", max_length=10_000, single_line=False)
    try:
        with transaction.atomic():
            organization = Organization.objects.create(name=name, notes=notes, custom_fields=values, source=source)
    except IntegrityError:
        raise Conflict("organization_exists", gettext("An organization named “%(name)s” already exists.") % {"name": name},
                       field="name") from None
    _record_organization(organization, "organization.created", actor=actor,
                         changes={"name": name, "domains": cleaned_domains, "custom_fields": values})
    for domain in cleaned_domains:
        _attach_domain(organization, domain, apply_to_existing=apply_to_existing, actor=actor)
    return organization


@transaction.atomic
def get_or_create_organization_by_name(name: str, *, source: Source, actor: Actor) -> Organization:
    """The organization with this name (case-insensitive), created when there is none (CSV import)."""
    clean = _text(name, field="organization", max_length=200, required=True)
    found = organizations_by_name([clean]).get(clean.lower())
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return create_organization(clean, source=source, actor=actor)
    except Conflict:
        return Organization.objects.get(name__iexact=clean)


@transaction.atomic
def update_organization(organization: Organization, *, changes: OrganizationChanges, actor: Actor) -> Organization:
    """Change the name, notes, custom fields, or what its members see in the portal."""
    before = _organization_state(organization)
    if changes.portal_visibility is not UNSET:
        if changes.portal_visibility not in (None, "", *PORTAL_VISIBILITY):
            raise Invalid("invalid_portal_visibility", f"Portal visibility is one of {', '.join(PORTAL_VISIBILITY)}, "
                          "or null for the global setting.", field="portal_visibility")
        organization.portal_visibility = changes.portal_visibility or ""
    if changes.name is not UNSET:
        organization.name = _text(changes.name, field="name", max_length=200, required=True)
    if changes.notes is not UNSET:
        organization.notes = _text(changes.notes, field="notes", max_length=10_000, single_line=False)
    if changes.custom_fields is not UNSET:
        organization.custom_fields = clean_values(
            "organization", changes.custom_fields, existing=organization.custom_fields, enforce_required=True
        )
    try:
        with transaction.atomic():
            organization.save()
    except IntegrityError:
        raise Conflict("organization_exists", gettext("An organization named “%(name)s” already exists.") % {"name": organization.name},
                       field="name") from None
    changed = diff(before, _organization_state(organization))
    if changed:
        _record_organization(organization, "organization.updated", actor=actor, changes=changed)
    return organization


@transaction.atomic
def add_domain(
    organization: Organization, domain: Any, *, apply_to_existing: bool = False, actor: Actor
) -> tuple[str, int]:
    """`organization` owns `domain` from now on: new customers of it (and of its subdomains) are
    filed there. With `apply_to_existing`, customers of that domain in "No organization" who were
    not placed there by hand move too. Returns the stored domain and how many customers moved."""
    clean = check_domain(domain)
    moved = _attach_domain(organization, clean, apply_to_existing=apply_to_existing, actor=actor)
    return clean, moved


@transaction.atomic
def remove_domain(organization: Organization, domain: str, *, actor: Actor) -> None:
    """The organization stops owning `domain`; its customers stay where they are."""
    try:
        clean = normalize_domain(domain_from_pasted(domain))
    except AddressError:
        clean = ""
    deleted, _ = OrganizationDomain.objects.filter(organization=organization, domain=clean).delete() if clean else (0, {})
    if not deleted:
        raise NotFound("domain_not_found", gettext("“%(name)s” does not own %(domain)s.") % {"name": organization.name, "domain": domain}, field="domain")
    _record_organization(organization, "organization.domain_removed", actor=actor, changes={"domain": clean})


@transaction.atomic
def delete_organization(organization: Organization, *, actor: Actor) -> None:
    """Delete the organization and its domains; its customers stay, in "No organization"."""
    ids = list(Customer.objects.filter(organization=organization).values_list("pk", flat=True))
    Customer.objects.filter(organization=organization).update(
        organization=None, placed_manually=False, updated_at=timezone.now()
    )
    _record_moves(ids, actor=actor, old=organization.pk, new=None, reason=f"organization “{organization.name}” deleted")
    _record_organization(organization, "organization.deleted", actor=actor, changes={
        "name": organization.name,
        "domains": list(organization.domains.values_list("domain", flat=True)),
        "customers_unassigned": len(ids),
    })
    organization.delete()


@transaction.atomic
def merge_organizations(source: Organization, *, into: Organization, actor: Actor) -> Organization:
    """Move every domain and customer of `source` to `into`, keep `into`'s values where both have
    one, and delete `source`."""
    if source.pk == into.pk:
        raise Invalid("merge_into_self", gettext("An organization cannot be merged into itself."), field="into")
    domains = list(source.domains.values_list("domain", flat=True))
    OrganizationDomain.objects.filter(organization=source).update(organization=into)
    ids = list(Customer.objects.filter(organization=source).values_list("pk", flat=True))
    Customer.objects.filter(organization=source).update(organization=into, updated_at=timezone.now())
    _record_moves(ids, actor=actor, old=source.pk, new=into.pk, reason=f"organization “{source.name}” merged")
    # Through the reverse relations the work app declares: this layer does not import it, and the
    # organization's tickets must not fall back to "no organization" when `source` is deleted.
    items = source.items.update(organization=into)
    source.projects.update(organization=into)
    into.custom_fields = {**source.custom_fields, **into.custom_fields}
    if source.notes and source.notes not in into.notes:
        into.notes = f"{into.notes}\n\n{source.notes}".strip()
    into.save()
    details = {"merged": source.pk, "name": source.name, "domains": domains, "customers": len(ids), "items": items}
    _record_organization(into, "organization.merged", actor=actor, changes=details)
    _record_organization(source, "organization.merged_into", actor=actor, changes={"into": into.pk, **details})
    source.delete()
    return into


# -- customers ----------------------------------------------------------------------------------


def _customer_details(
    *, name: str, phone: str, language: str, notes: str, customer_type: CustomerTypeRef,
    custom_fields: Mapping[str, Any] | None, source: Source,
    definitions: dict[str, CustomField] | None = None,
) -> dict[str, Any]:
    return {
        "name": _text(name, field="name", max_length=200),
        "phone": _phone(phone),
        "language": _language(language),
        "notes": _text(notes, field="notes", max_length=10_000, single_line=False),
        "customer_type": resolve_customer_type(customer_type),
        "custom_fields": clean_values("customer", custom_fields, enforce_required=source in PEOPLE_SOURCES,
                                      definitions=customer_field_definitions() if definitions is None else definitions),
    }


def customer_field_definitions() -> dict[str, CustomField]:
    """The customer custom field definitions, by key (read once for a batch and passed on)."""
    return {definition.key: definition for definition in CustomField.objects.filter(applies_to="customer")}


@dataclass(frozen=True)
class Person:
    """Someone to find by address or else create: a mail's sender or Cc, a ticket's requester, a
    customer typed in. The details apply only to a new customer; `organization` AUTO lets the
    domain rule file them, anything else places them by hand."""

    address: EmailAddress
    source: Source
    actor: Actor
    name: str = ""
    phone: str = ""
    language: str = ""
    notes: str = ""
    customer_type: CustomerTypeRef = None
    custom_fields: Mapping[str, Any] | None = None
    organization: Organization | None | _Auto = AUTO


def people_lookup_keys(people: Sequence[Person]) -> list[str]:
    return [person.address.key for person in people]


def _auto_organizations(triggers: dict[str, Person]) -> dict[str, Organization]:
    """The organizations the auto-create rule makes for these registrable domains (each with the
    person who triggered it), named after the domain, `name (2)`… when the name is taken. The
    unique keys decide races: an IntegrityError sends the whole batch back to read again."""
    if not triggers:
        return {}
    names = {domain: display_domain(domain) for domain in triggers}
    taken = set(organizations_by_name(names.values()))
    made: dict[str, Organization] = {}
    for domain, name in names.items():
        if name.lower() in taken:
            name = _free_organization_name(name, also_taken=taken)
        taken.add(name.lower())
        made[domain] = Organization(name=name, source=Source.AUTO)
    Organization.objects.bulk_create(list(made.values()))
    OrganizationDomain.objects.bulk_create(
        [OrganizationDomain(organization=organization, domain=domain) for domain, organization in made.items()])
    record_many([event(actor=AUTO_CREATE_RULE, action="organization.created", object_type="organization",
                       object_id=organization.pk, object_label=organization.name,
                       changes={"domain": domain, "name": organization.name,
                                "triggered_by": triggers[domain].actor.label})
                 for domain, organization in made.items()])
    return made


def _find_or_create(people: Sequence[Person], lookups: People) -> list[tuple[Customer, bool]]:
    """One attempt: every new address inserted at once, its organization found or made by the
    domain rule; `lookups` learns the new records only once all of them are written."""
    new: dict[str, Person] = {}
    for person in people:
        if lookups.customers.get(person.address.key) is None:
            new.setdefault(person.address.key, person)
    created: dict[str, Customer] = {}
    if new:
        definitions = customer_field_definitions()
        details = {key: _customer_details(name=person.name, phone=person.phone, language=person.language,
                                          notes=person.notes, customer_type=person.customer_type,
                                          custom_fields=person.custom_fields, source=person.source,
                                          definitions=definitions)
                   for key, person in new.items()}
        settings = get_settings()
        read_people((), [domain for person in new.values() if person.organization is AUTO
                         for domain in candidate_domains(person.address.domain)], into=lookups)
        filings: dict[str, tuple[Organization | None, str, str | None]] = {}
        triggers: dict[str, Person] = {}
        for key, person in new.items():
            if person.organization is AUTO:
                filing = filing_for_domain(person.address.domain, settings=settings, owners=lookups.owners)
                filings[key] = (filing.organization, filing.why, filing.create_for)
                if filing.create_for is not None:
                    triggers.setdefault(filing.create_for, person)
            else:
                filings[key] = (person.organization, "chosen by hand", None)
        made = _auto_organizations(triggers)
        for key, person in new.items():
            target, _why, create_for = filings[key]
            created[key] = Customer(
                email=person.address.address, email_key=key, domain=person.address.domain,
                organization=made[create_for] if create_for is not None else target,
                placed_manually=person.organization is not AUTO, source=person.source, **details[key])
        Customer.objects.bulk_create(list(created.values()))
        record_many([event(actor=new[key].actor, action="customer.created", object_type="customer",
                           object_id=customer.pk, object_label=customer.email,
                           changes={**_customer_state(customer), "source": new[key].source, "filed": filings[key][1]})
                     for key, customer in created.items()])
        lookups.owners.update(made)
        lookups.customers.update(created)
    found: list[tuple[Customer, bool]] = []
    for person in people:
        customer = lookups.customers[person.address.key]
        assert customer is not None
        fresh = created.pop(person.address.key, None) is not None  # only its first mention made it
        found.append((customer, fresh))
    return found


def find_or_create_customers(people: Sequence[Person], *, lookups: People | None = None
                             ) -> list[tuple[Customer, bool]]:
    """The customer behind each person's address (case-insensitive, following merges), or a new
    one filed by the domain rule, in order, with whether this call created it. Reads are set-based
    (a query for the addresses, one for the domains of the new ones) and every insert is a bulk
    insert, so a batch of mail costs a few statements, not a few per mail. `lookups` are the reads
    a batch made already (`read_people`); they learn what is created. All or nothing: a concurrent
    writer that inserted one of the addresses or domains first makes the batch read again."""
    if not people:
        return []
    for _attempt in range(3):
        lookups = read_people(people_lookup_keys(people), into=lookups)
        learnt = People(dict(lookups.customers), dict(lookups.owners))
        try:
            with transaction.atomic():
                found = _find_or_create(people, learnt)
        except IntegrityError:  # another writer made one of them first: read again
            lookups = None
            continue
        lookups.customers.update(learnt.customers)
        lookups.owners.update(learnt.owners)
        return found
    raise Conflict("customer_race", gettext("The customer changed while being created; try again."), field="email")


def find_or_create_customer(
    email: str,
    *,
    name: str = "",
    phone: str = "",
    language: str = "",
    notes: str = "",
    customer_type: CustomerTypeRef = None,
    organization: Organization | None | _Auto = AUTO,
    custom_fields: Mapping[str, Any] | None = None,
    source: Source,
    actor: Actor,
) -> tuple[Customer, bool]:
    """`find_or_create_customers` for one address. Returns the customer and whether it was created."""
    [found] = find_or_create_customers([Person(
        address=_address(email), source=source, actor=actor, name=name, phone=phone, language=language, notes=notes,
        customer_type=customer_type, custom_fields=custom_fields, organization=organization)])
    return found


@transaction.atomic
def create_customer(
    email: str,
    *,
    name: str = "",
    phone: str = "",
    language: str = "",
    notes: str = "",
    customer_type: CustomerTypeRef = None,
    organization: Organization | None | _Auto = AUTO,
    custom_fields: Mapping[str, Any] | None = None,
    source: Source,
    actor: Actor,
) -> Customer:
    """`find_or_create_customer` for people adding someone new: an address already known (even
    as one merged into another customer) is a conflict."""
    customer, created = find_or_create_customer(
        email, name=name, phone=phone, language=language, notes=notes, customer_type=customer_type,
        organization=organization, custom_fields=custom_fields, source=source, actor=actor)
    if not created:
        raise Conflict("customer_exists", gettext("A customer with the address %(address)s already exists.") % {"address": _address(email).address},
                       field="email")
    return customer


@transaction.atomic
def move_customer(customer: Customer, *, to: Organization | None, actor: Actor) -> Customer:
    """An agent puts the customer in `to` (None: "No organization"). Rules never undo it."""
    old = customer.organization_id
    customer.organization = to
    customer.placed_manually = True
    customer.save(update_fields=["organization", "placed_manually", "updated_at"])
    if old != customer.organization_id:
        _record_customer(customer, "customer.moved", actor=actor,
                         changes={"organization": {"old": old, "new": customer.organization_id}, "reason": "by hand"})
    return customer


@transaction.atomic
def update_customer(customer: Customer, *, changes: CustomerChanges, actor: Actor) -> Customer:
    """Change what `changes` gives; `organization` (an Organization or None) is a manual move. A
    new address keeps the customer where they are filed."""
    before = _customer_state(customer)
    if changes.email is not UNSET:
        address = _address(changes.email)
        if address.key != customer.email_key and Customer.objects.filter(email_key=address.key).exists():
            raise Conflict("customer_exists", gettext("A customer with the address %(address)s already exists.") % {"address": address.address},
                           field="email")
        customer.email, customer.email_key, customer.domain = address.address, address.key, address.domain
    if changes.name is not UNSET:
        customer.name = _text(changes.name, field="name", max_length=200)
    if changes.phone is not UNSET:
        customer.phone = _phone(changes.phone)
    if changes.language is not UNSET:
        customer.language = _language(changes.language)
    if changes.notes is not UNSET:
        customer.notes = _text(changes.notes, field="notes", max_length=10_000, single_line=False)
    if changes.customer_type is not UNSET:
        customer.customer_type = resolve_customer_type(changes.customer_type)
    if changes.custom_fields is not UNSET:
        customer.custom_fields = clean_values(
            "customer", changes.custom_fields, existing=customer.custom_fields, enforce_required=True
        )
    if changes.organization is not UNSET:
        customer.organization = changes.organization
        customer.placed_manually = True
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise Conflict("customer_exists", gettext("Another customer has this address."), field="email") from None
    changed = diff(before, _customer_state(customer))
    if changed:
        _record_customer(customer, "customer.updated", actor=actor, changes=changed)
    return customer


@transaction.atomic
def delete_customer(customer: Customer, *, actor: Actor) -> None:
    """Delete the customer (and the addresses merged into them)."""
    _record_customer(customer, "customer.deleted", actor=actor, changes=_customer_state(customer))
    Customer.objects.filter(merged_into=customer).delete()
    customer.delete()


def _hand_over_work(source: Customer, into: Customer) -> None:
    """The merged customer's requests, messages and follows become the survivor's. Through the
    reverse relations the work app declares, because this layer does not import it."""
    source.requested_items.update(requester=into)
    source.messages.update(author_customer=into)
    follows = source.followed_items
    follows.filter(item__in=into.followed_items.values("item_id")).delete()
    follows.update(customer=into)


@transaction.atomic
def merge_customers(source: Customer, *, into: Customer, actor: Actor) -> Customer:
    """`source` becomes an alias of `into`: its address finds `into` from now on, `into` keeps its
    own values and takes `source`'s where it has none."""
    if source.pk == into.pk:
        raise Invalid("merge_into_self", gettext("A customer cannot be merged into itself."), field="into")
    for name in ("name", "phone", "language", "notes"):
        if not getattr(into, name) and getattr(source, name):
            setattr(into, name, getattr(source, name))
    if into.customer_type_id is None:
        into.customer_type_id = source.customer_type_id
    into.custom_fields = {**source.custom_fields, **into.custom_fields}
    into.save()
    Customer.objects.filter(merged_into=source).update(merged_into=into)
    _hand_over_work(source, into)
    source.merged_into = into
    source.save(update_fields=["merged_into", "updated_at"])
    details = {"merged": source.pk, "email": source.email}
    _record_customer(into, "customer.merged", actor=actor, changes=details)
    _record_customer(source, "customer.merged_into", actor=actor, changes={"into": into.pk, "email": into.email})
    return into


# -- customer types -----------------------------------------------------------------------------


def _color(value: str) -> str:
    if not isinstance(value, str) or not COLOR_PATTERN.fullmatch(value.strip()):
        raise Invalid("invalid_color", gettext("A colour is written #rrggbb, such as #2563eb."), field="color")
    return value.strip().lower()


def _check_visible_limit(exclude: CustomerType | None = None) -> None:
    visible = CustomerType.objects.filter(visible=True)
    if exclude is not None:
        visible = visible.exclude(pk=exclude.pk)
    if visible.count() >= MAX_VISIBLE_TYPES:
        raise Invalid("too_many_visible_types", gettext("At most %(value)s customer types can be visible; "
                      "hide one first.") % {"value": MAX_VISIBLE_TYPES}, field="visible")


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can change customer types."))


@transaction.atomic
def create_customer_type(name: str, *, color: str = "#6b7280", visible: bool = True, actor: Actor) -> CustomerType:
    _require_admin(actor)
    if visible:
        _check_visible_limit()
    customer_type = CustomerType(
        name=_text(name, field="name", max_length=100, required=True), color=_color(color),
        visible=bool(visible), position=CustomerType.objects.count(),
    )
    try:
        with transaction.atomic():
            customer_type.save()
    except IntegrityError:
        raise Conflict("customer_type_exists", gettext("A customer type named “%(name)s” already exists.") % {"name": customer_type.name},
                       field="name") from None
    record(actor=actor, action="customer_type.created", object_type="customer_type", object_id=customer_type.pk,
           object_label=customer_type.name, changes={"color": customer_type.color, "visible": customer_type.visible})
    return customer_type


@transaction.atomic
def update_customer_type(customer_type: CustomerType, *, changes: CustomerTypeChanges, actor: Actor) -> CustomerType:
    _require_admin(actor)
    before = {"name": customer_type.name, "color": customer_type.color, "visible": customer_type.visible,
              "position": customer_type.position}
    if changes.name is not UNSET:
        customer_type.name = _text(changes.name, field="name", max_length=100, required=True)
    if changes.color is not UNSET:
        customer_type.color = _color(changes.color)
    if changes.visible is not UNSET:
        if changes.visible and not customer_type.visible:
            _check_visible_limit(exclude=customer_type)
        customer_type.visible = changes.visible
    if changes.position is not UNSET:
        if changes.position < 0:
            raise Invalid("invalid_position", gettext("position is a whole number, 0 or more."), field="position")
        customer_type.position = changes.position
    try:
        with transaction.atomic():
            customer_type.save()
    except IntegrityError:
        raise Conflict("customer_type_exists", gettext("A customer type named “%(name)s” already exists.") % {"name": customer_type.name},
                       field="name") from None
    after = {key: getattr(customer_type, key) for key in before}
    record(actor=actor, action="customer_type.updated", object_type="customer_type", object_id=customer_type.pk,
           object_label=customer_type.name, changes=diff(before, after))
    return customer_type


@transaction.atomic
def delete_customer_type(customer_type: CustomerType, *, actor: Actor) -> None:
    """Delete the type; its customers keep everything else."""
    _require_admin(actor)
    record(actor=actor, action="customer_type.deleted", object_type="customer_type", object_id=customer_type.pk,
           object_label=customer_type.name)
    customer_type.delete()


# -- rows of customers (CSV import): plan without writing, then write through the services above --


@dataclass(frozen=True)
class CustomerRow:
    """One customer as an import row gives it: the address, and the values it sets (empty: keep)."""

    email: str
    name: str = ""
    phone: str = ""
    language: str = ""
    notes: str = ""
    customer_type: str = ""
    organization: str = ""  # a name, found or created; empty: the domain rule files a new customer
    custom_fields: dict[str, str] = field(default_factory=dict)


@dataclass
class RowPlan:
    """What a row does: create `customer` (unsaved, as it would be) or match it, and for a match
    the fields that differ (`changes`: {field: {"old", "new"}}) and the update that sets them."""

    row: CustomerRow
    created: bool
    customer: Customer
    organization: Organization | None
    update: CustomerChanges = CustomerChanges()
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)


def _label(value: Any) -> Any:
    if isinstance(value, (Organization, CustomerType)):
        return value.name
    return value


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, (Organization, CustomerType)) and isinstance(new, type(old)):
        return old.pk == new.pk if old.pk and new.pk else old.name.lower() == new.name.lower()
    return bool(old == new)


def customer_changes(customer: Customer, row: CustomerRow, *, organization: Organization | _Auto = AUTO,
                     definitions: dict[str, CustomField] | None = None,
                     ) -> tuple[CustomerChanges, dict[str, dict[str, Any]]]:
    """The update a row's non-empty values make to `customer`, each cleaned as `update_customer`
    cleans it (so a bad value raises the same Invalid), and the old → new of each changed field."""
    cleaned: dict[str, Any] = {}
    if row.name.strip():
        cleaned["name"] = _text(row.name, field="name", max_length=200)
    if row.phone.strip():
        cleaned["phone"] = _phone(row.phone)
    if row.language.strip():
        cleaned["language"] = _language(row.language)
    if row.notes.strip():
        cleaned["notes"] = _text(row.notes, field="notes", max_length=10_000, single_line=False)
    if row.customer_type.strip():
        cleaned["customer_type"] = resolve_customer_type(row.customer_type)
    if organization is not AUTO:
        cleaned["organization"] = organization
    update: dict[str, Any] = {}
    changes: dict[str, dict[str, Any]] = {}
    for key, new in cleaned.items():
        old = getattr(customer, key)
        if not _same(old, new):
            update[key] = new
            changes[key] = {"old": _label(old), "new": _label(new)}
    custom = {key: value for key, value in row.custom_fields.items() if value.strip()}
    if custom:
        after = clean_values("customer", custom, existing=customer.custom_fields, enforce_required=True,
                             definitions=customer_field_definitions() if definitions is None else definitions)
        for key in custom:
            if customer.custom_fields.get(key) != after.get(key):
                update.setdefault("custom_fields", {})[key] = custom[key]
                changes[f"custom_fields.{key}"] = {"old": customer.custom_fields.get(key), "new": after.get(key)}
    return CustomerChanges(**update), changes


class RowPlanner:
    """Plans import rows with reads only, through the lookups and cleaning `find_or_create_customer`
    and `update_customer` use. `remember` keeps what a planned row would create (a customer, an
    organization), so that a preview that writes nothing still sees it in later rows; after a real
    write, `remember` keeps the written records instead."""

    def __init__(self) -> None:
        self._customers: dict[str, Customer] = {}
        self._by_name: dict[str, Organization] = {}
        self._by_domain: dict[str, Organization] = {}
        self._settings: dict[str, Any] | None = None
        self._addresses: dict[str, EmailAddress | Invalid] = {}
        self.people = People()
        self.definitions: dict[str, CustomField] | None = None

    def prefetch(self, rows: Sequence[CustomerRow]) -> None:
        """Read the customers, domain owners and named organizations of a batch of rows at once,
        so that planning and writing them asks nothing per row for those. What is read lasts for
        this batch of rows: the next one reads again."""
        self._addresses = {}
        keys: set[str] = set()
        domains: set[str] = set()
        for row in rows:
            try:
                address = self._addresses[row.email] = _address(row.email)
            except Invalid as exc:
                self._addresses[row.email] = exc
                continue
            keys.add(address.key)
            domains.update(candidate_domains(address.domain))
        self.people = read_people(keys, domains)
        self.definitions = customer_field_definitions()
        self._settings = get_settings()
        names = [" ".join(row.organization.split()) for row in rows if row.organization.strip()]
        wanted = [name for name in names if name.lower() not in self._by_name]
        self._by_name.update(organizations_by_name(wanted))

    def forget(self) -> None:
        """After a rolled-back write: what was remembered from the database may be gone."""
        self._customers.clear()
        self._by_name.clear()
        self._by_domain.clear()
        self.people = People()

    def _known(self, key: str) -> Customer | None:
        if key in self.people.customers:
            return self.people.customers[key]
        return find_customer_by_email(key)

    def _organization_named(self, name: str) -> Organization:
        clean = _text(name, field="organization", max_length=200, required=True)
        found = self._by_name.get(clean.lower())
        if found is None:
            found = organizations_by_name([clean]).get(clean.lower()) or Organization(name=clean, source=Source.CSV)
            self._by_name[clean.lower()] = found
        return found

    def plan(self, row: CustomerRow) -> RowPlan:
        """What the row would do now; raises the DomainError the write would raise."""
        address = self._addresses.get(row.email) or _address(row.email)
        if isinstance(address, Invalid):
            raise Invalid(address.code, address.message, field=address.field)
        organization: Organization | _Auto = AUTO
        if row.organization.strip():
            organization = self._organization_named(row.organization)
        existing = self._customers.get(address.key) or self._known(address.key)
        if existing is not None:
            update, changes = customer_changes(existing, row, organization=organization, definitions=self.definitions)
            return RowPlan(row, False, existing, existing.organization, update, changes)
        details = _customer_details(name=row.name, phone=row.phone, language=row.language, notes=row.notes,
                                    customer_type=row.customer_type or None, custom_fields=row.custom_fields or None,
                                    source=Source.CSV, definitions=self.definitions)
        target: Organization | None
        if organization is AUTO:
            if self._settings is None:
                self._settings = get_settings()
            owners = self.people.owners if self.people.knows((), candidate_domains(address.domain)) else None
            filing = filing_for_domain(address.domain, settings=self._settings, owners=owners)
            target = filing.organization
            if filing.create_for is not None:
                target = self._by_domain.get(filing.create_for) or Organization(
                    name=display_domain(filing.create_for), source=Source.AUTO)
                self._by_domain[filing.create_for] = target
        else:
            target = organization
        customer = Customer(email=address.address, email_key=address.key, domain=address.domain,
                            organization=target, source=Source.CSV, **details)
        return RowPlan(row, True, customer, target)

    def remember(self, plan: RowPlan) -> None:
        """Later rows see what this one created (planned or written)."""
        customer = plan.customer
        self._customers[customer.email_key] = customer
        if customer.organization is not None:
            self._by_name[customer.organization.name.lower()] = customer.organization


def write_row(plan: RowPlan, *, update_existing: bool, actor: Actor, people: People | None = None) -> RowPlan:
    """Carry out a planned row: create the customer (the organization it names found or created,
    or the domain rule's), or, with `update_existing`, update the matched one. Returns the plan
    with the written records. `people` are the planner's lookups (`RowPlanner.people`); they
    learn what is created."""
    row = plan.row
    if plan.created:
        organization: Organization | None | _Auto = AUTO
        if row.organization.strip():
            organization = get_or_create_organization_by_name(row.organization, source=Source.CSV, actor=actor)
        [(customer, created)] = find_or_create_customers([Person(
            address=_address(row.email), source=Source.CSV, actor=actor, name=row.name, phone=row.phone,
            language=row.language, notes=row.notes, customer_type=row.customer_type or None,
            custom_fields=row.custom_fields or None, organization=organization)], lookups=people)
        return RowPlan(row, created, customer, customer.organization)
    customer = plan.customer
    update = plan.update
    if update_existing and given(update):
        if isinstance(update.organization, Organization) and update.organization.pk is None:
            organization = get_or_create_organization_by_name(row.organization, source=Source.CSV, actor=actor)
            update = replace(update, organization=organization)
        customer = update_customer(customer, changes=update, actor=actor)
    return RowPlan(row, False, customer, customer.organization, update, plan.changes)
