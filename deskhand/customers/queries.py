"""Reads about customers and organizations that the API, web app, CLI and services share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower
from django.utils.translation import gettext

from deskhand.config.queries import get_setting, get_settings
from deskhand.core.emailaddr import AddressError, display_domain, parse_email
from deskhand.core.errors import NotFound
from deskhand.core.text import search_term
from deskhand.customers.domains import candidate_domains, is_free_mail, registrable_domain
from deskhand.customers.models import Customer, CustomerType, Organization, OrganizationDomain
from deskhand.fields.models import CustomField

NO_ORGANIZATION = "none"


def organization_for_domain(domain: str, *, extra_free_mail: Iterable[str] | None = None) -> Organization | None:
    """The organization owning `domain` or its nearest parent; never a public suffix or free mail."""
    extra = get_setting("extra_free_mail_domains") if extra_free_mail is None else extra_free_mail
    if is_free_mail(domain, extra):
        return None
    candidates = candidate_domains(domain)
    if not candidates:
        return None
    known = _domain_owners(candidates)
    for candidate in candidates:  # most specific first
        if known.get(candidate) is not None:
            return known[candidate]
    return None


@dataclass(frozen=True)
class Filing:
    """Where the domain rule files a new customer: an owner (or None), or, with `create_for`, a
    new organization the auto-create rule makes for that registrable domain."""

    organization: Organization | None
    why: str
    create_for: str | None = None


def filing_for_domain(domain: str, *, settings: dict[str, Any],
                      owners: Mapping[str, Organization | None] | None = None) -> Filing:
    """The domain rule for a new customer of `domain`, read only: `find_or_create_customers` acts
    on it, and an import preview reports it without writing. `owners` (from `read_people`) holds
    the owners of the domain and its parents; without it they are read."""
    extra = settings["extra_free_mail_domains"]
    if is_free_mail(domain, extra):
        return Filing(None, "free-mail domain")
    if owners is None:
        owner = organization_for_domain(domain, extra_free_mail=extra)
    else:
        owner = next((owners[candidate] for candidate in candidate_domains(domain) if owners.get(candidate)), None)
    if owner is not None:
        return Filing(owner, "owned domain")
    if not settings["auto_create_organizations"]:
        return Filing(None, "no owner and auto-create is off")
    registrable = registrable_domain(domain)
    if registrable is None:
        return Filing(None, "public suffix")
    return Filing(None, "auto-created organization", create_for=registrable)


def organizations_by_name(names: Iterable[str]) -> dict[str, Organization]:
    """The organizations with these names (case-insensitive, as the unique key), keyed by the
    lower-cased name: one query for a batch of CSV rows."""
    wanted = list(dict.fromkeys(name for name in names if name))
    found: dict[str, Organization] = {}
    for start in range(0, len(wanted), 200):
        condition = Q()
        for name in wanted[start:start + 200]:
            condition |= Q(name__iexact=name)
        for organization in Organization.objects.filter(condition):
            found[organization.name.lower()] = organization
    return found


def domain_owner(domain: str) -> Organization | None:
    """The organization that owns exactly `domain` (a normalised domain), if any."""
    row = OrganizationDomain.objects.select_related("organization").filter(domain=domain).first()
    return row.organization if row is not None else None


def _domain_owners(domains: Iterable[str]) -> dict[str, Organization | None]:
    owners: dict[str, Organization | None] = dict.fromkeys(domains)
    for row in OrganizationDomain.objects.select_related("organization").filter(domain__in=list(owners)):
        owners[row.domain] = row.organization
    return owners


def unassigned_customers_for_domain(organization: Organization | None, domain: str) -> QuerySet[Customer]:
    """Customers in "No organization", not placed there by hand, whom the domain rule would file
    under `domain`'s owner once `domain` is added (subdomains owned elsewhere stay out)."""
    customers = Customer.objects.live().filter(
        Q(domain=domain) | Q(domain__endswith=f".{domain}"),
        organization__isnull=True,
        placed_manually=False,
    )
    more_specific = list(
        OrganizationDomain.objects.filter(domain__endswith=f".{domain}")
        .exclude(organization=organization)
        .values_list("domain", flat=True)
    )
    for other in more_specific:
        customers = customers.exclude(Q(domain=other) | Q(domain__endswith=f".{other}"))
    return customers


def customer_list(*, search: str = "", organization: str | int | None = None) -> QuerySet[Customer]:
    """Live customers, optionally of one organization (`"none"` for "No organization")."""
    customers = Customer.objects.live().select_related("organization", "customer_type")
    if organization == NO_ORGANIZATION:
        customers = customers.filter(organization__isnull=True)
    elif organization is not None:
        customers = customers.filter(organization_id=organization)
    term = search_term(search)
    if term:
        customers = customers.filter(Q(email_key__contains=term.lower()) | Q(name__icontains=term))
    return customers.order_by("email_key")


def organization_list(*, search: str = "") -> QuerySet[Organization]:
    """Organizations by name with their domains and live customer count (a subquery, so that
    only the rows of the page are counted)."""
    members = (
        Customer.objects.live()
        .filter(organization=OuterRef("pk"))
        .order_by()
        .values("organization")
        .annotate(count=Count("*"))
        .values("count")
    )
    organizations = Organization.objects.annotate(
        customer_count=Coalesce(Subquery(members, output_field=IntegerField()), 0)
    ).prefetch_related(Prefetch("domains", queryset=OrganizationDomain.objects.order_by("domain")))
    term = search_term(search)
    if term:
        owning = OrganizationDomain.objects.filter(domain__contains=term.lower().lstrip("@")).values("organization_id")
        organizations = organizations.filter(Q(name__icontains=term) | Q(pk__in=owning))
    return organizations.order_by(Lower("name"), "id")


def get_customer(customer_id: int) -> Customer:
    customer = (
        Customer.objects.select_related("organization", "customer_type", "merged_into")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound("customer_not_found", gettext("No customer with id %(customer_id)s.") % {"customer_id": customer_id})
    if customer.merged_into_id is not None:
        raise NotFound("customer_merged", gettext("Customer %(customer_id)s was merged into customer %(merged_into_id)s.") % {"customer_id": customer_id, "merged_into_id": customer.merged_into_id})
    return customer


def get_organization(organization_id: int) -> Organization:
    organization = organization_list().filter(pk=organization_id).first()
    if organization is None:
        raise NotFound("organization_not_found", gettext("No organization with id %(organization_id)s.") % {"organization_id": organization_id})
    return organization


def customer_count_without_organization() -> int:
    return Customer.objects.live().filter(organization__isnull=True).count()


def customer_type_list() -> QuerySet[CustomerType]:
    return CustomerType.objects.all()


def get_customer_type(type_id: int) -> CustomerType:
    customer_type = CustomerType.objects.filter(pk=type_id).first()
    if customer_type is None:
        raise NotFound("customer_type_not_found", gettext("No customer type with id %(type_id)s.") % {"type_id": type_id})
    return customer_type


def find_customer_by_email(key: str) -> Customer | None:
    """The live customer behind a normalised address key, following merges."""
    # email_key is unique: no ORDER BY (what .first() would add) is needed to pick one row.
    customer = next(iter(Customer.objects.select_related("organization", "customer_type").filter(email_key=key)), None)
    seen = 0
    while customer is not None and customer.merged_into_id is not None and seen < 20:
        customer = Customer.objects.select_related("organization", "customer_type").get(pk=customer.merged_into_id)
        seen += 1
    return customer


@dataclass
class People:
    """What filing a batch of people reads, read once and passed in: the live customer behind each
    address key (None: unknown; merges followed) and the owner of each domain (None: nobody).
    `find_or_create_customers` adds what it creates, so later batches of one run see it."""

    customers: dict[str, Customer | None] = field(default_factory=dict)
    owners: dict[str, Organization | None] = field(default_factory=dict)

    def knows(self, keys: Iterable[str], domains: Iterable[str]) -> bool:
        return all(key in self.customers for key in keys) and all(domain in self.owners for domain in domains)


def _live(customers: dict[str, Customer | None]) -> None:
    """Replace merged customers by the ones they were merged into (chains of at most 20)."""
    for _round in range(20):
        merged = {key: customer.merged_into_id for key, customer in customers.items()
                  if customer is not None and customer.merged_into_id is not None}
        if not merged:
            return
        targets = Customer.objects.select_related("organization", "customer_type").in_bulk(set(merged.values()))
        for key, target_id in merged.items():
            customers[key] = targets.get(target_id)


def read_people(keys: Iterable[str], domains: Iterable[str] = (), *, into: People | None = None) -> People:
    """The customers behind these address keys and the owners of these domains (and nothing for
    what `into` knows already): a query for each, whatever the batch's size."""
    people = into or People()
    wanted = [key for key in dict.fromkeys(keys) if key not in people.customers]
    if wanted:
        found: dict[str, Customer | None] = dict.fromkeys(wanted)
        for start in range(0, len(wanted), 500):
            for customer in Customer.objects.select_related("organization", "customer_type").filter(
                    email_key__in=wanted[start:start + 500]):
                found[customer.email_key] = customer
        _live(found)
        people.customers.update(found)
    unknown = [domain for domain in dict.fromkeys(domains) if domain not in people.owners]
    for start in range(0, len(unknown), 500):
        people.owners.update(_domain_owners(unknown[start:start + 500]))
    return people


def lookup_keys(addresses: Iterable[str]) -> tuple[set[str], set[str]]:
    """The address keys and the domains (with their parents) that filing mail from and to
    `addresses` looks up; pure, so a parser process can work it out beside the writer."""
    keys: set[str] = set()
    domains: set[str] = set()
    for raw in addresses:
        try:
            address = parse_email(raw)
        except AddressError:
            continue
        keys.add(address.key)
        domains.update(candidate_domains(address.domain))
    return keys, domains


def organization_by_name(name: str) -> Organization | None:
    """The organization with exactly this name (case-insensitive), for forms that name one."""
    term = search_term(name)
    return Organization.objects.filter(name__iexact=term).first() if term else None


def organization_names(prefix: str, *, limit: int = 20) -> list[str]:
    """Names starting with (or else containing) `prefix`, for a type-ahead list."""
    term = search_term(prefix)
    names = Organization.objects.order_by(Lower("name"))
    if not term:
        return list(names.values_list("name", flat=True)[:limit])
    found = list(names.filter(name__istartswith=term).values_list("name", flat=True)[:limit])
    if len(found) < limit:
        more = names.filter(name__icontains=term).exclude(name__istartswith=term)
        found += list(more.values_list("name", flat=True)[: limit - len(found)])
    return found


def detail_panel(record: Customer | Organization) -> list[dict[str, object]]:
    """The configured detail panel of a customer or an organization: each chosen property's label
    and display value, in the configured order (custom fields that no longer exist are skipped)."""
    if isinstance(record, Customer):
        kind = "customer"
        organization = record.organization
        builtin: dict[str, tuple[str, object]] = {
            "email": ("Email", record.email), "name": ("Name", record.name), "phone": ("Phone", record.phone),
            "organization": ("Organization", organization.name if organization else "No organization"),
            "customer_type": ("Customer type", record.customer_type.name if record.customer_type else ""),
            "language": ("Language", record.language),
        }
    else:
        kind = "organization"
        builtin = {
            "name": ("Name", record.name),
            "domains": ("Domains", ", ".join(display_domain(d.domain) for d in record.domains.all())),
            "customer_count": ("Customers", getattr(record, "customer_count", 0)),
        }
    builtin.update({"notes": ("Notes", record.notes), "source": ("Source", record.get_source_display()),
                    "created_at": ("Created", record.created_at), "updated_at": ("Updated", record.updated_at)})
    definitions = {field.key: field for field in CustomField.objects.filter(applies_to=kind)}
    rows: list[dict[str, object]] = []
    for entry in get_settings()[f"{kind}_panel"]:
        if entry.startswith("custom_fields."):
            definition = definitions.get(entry.removeprefix("custom_fields."))
            if definition is not None:
                value = record.custom_fields.get(definition.key)
                rows.append({"label": definition.label,
                             "value": ", ".join(value) if isinstance(value, list) else value})
        elif entry in builtin:
            label, value = builtin[entry]
            rows.append({"label": label, "value": value})
    return rows


def organization_page(number: int, *, per_page: int) -> tuple[Page[Organization], list[Organization]]:
    """One page of organizations by name, with domains and counts. The page is chosen on the bare
    table first: PostgreSQL would otherwise compute the count subquery for every skipped row."""
    paginator = Paginator(Organization.objects.order_by(Lower("name"), "id").only("id"), per_page)
    page = paginator.get_page(number)
    ids = [organization.pk for organization in page.object_list]
    organizations = list(organization_list().filter(pk__in=ids))
    return page, organizations
