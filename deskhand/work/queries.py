"""Reads of the work app: item lists with their filters, one item with its conversation, the
project trees of the two views, and timesheets."""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Count, Exists, Model, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext

from deskhand.audit.models import AuditEvent
from deskhand.config.queries import get_setting
from deskhand.core.errors import Invalid, NotFound
from deskhand.core.numbers import parse_ids
from deskhand.core.text import search_term
from deskhand.customers.models import Customer, Organization
from deskhand.sla.models import ItemSla
from deskhand.work.models import (
    Assignee,
    Attachment,
    Category,
    Folder,
    Follower,
    Item,
    Kind,
    Message,
    MessageKind,
    Portfolio,
    Priority,
    Project,
    Status,
    TimeEntry,
)

_Record = TypeVar("_Record", bound=Model)
_Items = TypeVar("_Items", bound=QuerySet[Item])

NONE = "none"
# ASCII digits: `\d` also matches `²` and Arabic-Indic digits, which `int()` refuses or misreads.
REFERENCE = re.compile(r"^#?([0-9]{1,18})$")
SORTS = {
    "-id": ("-id",), "id": ("id",),
    "-updated_at": ("-updated_at", "-id"), "updated_at": ("updated_at", "id"),
    "title": ("title", "-id"), "-title": ("-title", "-id"),
    "priority": ("priority", "-id"), "-priority": ("-priority", "-id"),
    "status": ("status__position", "-id"), "-status": ("-status__position", "-id"),
    # Customers' latest words first (the view "Recently updated by customers").
    "-customer_at": ("-last_customer_message_at", "-id"),
}
# How far back "recently updated by customers" looks.
CUSTOMER_RECENT = datetime.timedelta(days=7)


@dataclass(frozen=True)
class ItemFilters:
    """The filters every item list takes. Empty means "any"; `none` means "not set"."""

    status: str = ""          # status keys, comma-separated, or a category as "category:open"
    priority: str = ""        # low, normal, high, urgent (comma-separated)
    assignee: str = ""        # an agent id, "team:<id>" or "none"
    organization: str = ""    # an organization id or "none"
    requester: str = ""       # a customer id
    project: str = ""         # a project id or "none"
    folder: str = ""          # a folder id or "none"
    search: str = ""          # title, reference (#123) or requester email
    sla: str = ""             # breached, at_risk, paused, running, met or none
    updated_by: str = ""      # "customer": a customer wrote in the last 7 days

    @classmethod
    def from_mapping(cls, data: Any) -> ItemFilters:
        return cls(**{f.name: str(data.get(f.name) or "").strip()[:200] for f in fields(cls)})

    def as_query(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def _ids(value: str, *, field: str) -> list[int]:
    try:
        return parse_ids(value, field=field)
    except Invalid:
        raise Invalid(f"invalid_{field}", f"{field.capitalize()} is an id or {NONE}.", field=field) from None


def _by_id_or_none(queryset: _Items, value: str, *, field: str) -> _Items:
    if not value:
        return queryset
    if value == NONE:
        return queryset.filter(**{f"{field}__isnull": True})
    return queryset.filter(**{f"{field}_id__in": _ids(value, field=field)})


def _status(queryset: _Items, kind: str, value: str) -> _Items:
    if not value:
        return queryset
    if value.startswith("category:"):
        categories = value.removeprefix("category:").split(",")
        if any(category not in Category.values for category in categories):
            raise Invalid("unknown_category", f"Category is one of {', '.join(Category.values)}.", field="status")
        # The status ids, not a join on the category: the (kind, status, id) index then finds the
        # rows (a join made PostgreSQL scan all 200 000 tickets to count 12 000).
        return queryset.filter(status_id__in=list(Status.objects.filter(kind=kind, category__in=categories)
                                                  .values_list("pk", flat=True)))
    keys = [key.strip() for key in value.split(",") if key.strip()]
    statuses = list(Status.objects.filter(kind=kind, key__in=keys))
    if len(statuses) != len(set(keys)):
        known = {status.key for status in statuses}
        unknown = next(key for key in keys if key not in known)
        raise Invalid("unknown_status", gettext("“%(unknown)s” is not a %(kind)s status.") % {"unknown": unknown, "kind": kind}, field="status")
    return queryset.filter(status__in=statuses)


def _priority(queryset: _Items, value: str) -> _Items:
    if not value:
        return queryset
    by_key = {priority.key: int(priority) for priority in Priority}
    keys = [key.strip() for key in value.split(",") if key.strip()]
    if any(key not in by_key for key in keys):
        raise Invalid("unknown_priority", gettext("Priority is low, normal, high or urgent."), field="priority")
    return queryset.filter(priority__in=[by_key[key] for key in keys])


def _assignments(kind: str, value: str) -> QuerySet[Assignee]:
    """The assignee rows of one kind's items that `value` names: agent ids, or `team:` ids. They
    are read from assignee_agent_kind_idx (or the team's) alone, in item order."""
    if value.startswith("team:"):
        teams = _ids(value.removeprefix("team:"), field="assignee")
        return Assignee.objects.filter(team_id__in=teams, kind=kind)
    return Assignee.objects.filter(agent_id__in=_ids(value, field="assignee"), kind=kind)


def _assignee(queryset: _Items, kind: str, value: str) -> _Items:
    if not value:
        return queryset
    if value == NONE:
        # NOT EXISTS probes the assignee index per candidate item; NOT IN read every assignment
        # of the kind first (65 ms for 140 000 of them on SQLite, to count the unassigned).
        return queryset.filter(~Exists(Assignee.objects.filter(item_id=OuterRef("pk"))))
    return queryset.filter(pk__in=_assignments(kind, value).values("item_id"))


def _title_matches(term: str) -> Q:
    """Titles containing `term`, case-insensitively, through the trigram index of migration
    work/0004 (FTS5 on SQLite; on PostgreSQL pg_trgm serves Django's own icontains)."""
    if connection.vendor == "sqlite" and len(term) >= 3:
        # A quoted phrase is a literal substring for the trigram tokenizer, case-folded beyond ASCII.
        phrase = '"' + term.replace('"', '""') + '"'
        return Q(pk__in=RawSQL("SELECT rowid FROM work_item_title WHERE work_item_title MATCH %s", (phrase,)))
    return Q(title__icontains=term)


MAX_REQUESTER_MATCHES = 1000


def _requesters(term: str) -> list[int]:
    """Customers whose address matches: a whole address and a domain (`@acme.com`) use indexes.
    The ids are read first: a literal list lets PostgreSQL combine the requester index with the
    title index (an IN subquery under OR made it scan every ticket)."""
    text = term.lower()
    local, _, domain = text.rpartition("@")
    if local and "." in domain and " " not in text:
        customers = Customer.objects.filter(email_key=text)
    elif not local and domain:
        customers = Customer.objects.filter(domain=domain)
    else:
        customers = Customer.objects.filter(email__icontains=term)
    return list(customers.order_by().values_list("pk", flat=True)[:MAX_REQUESTER_MATCHES])


def _search(queryset: _Items, value: str) -> _Items:
    term = search_term(value)
    if not term:
        return queryset
    reference = REFERENCE.match(term)
    if reference:
        return queryset.filter(Q(pk=int(reference.group(1))) | _title_matches(term))
    if "@" in term:
        return queryset.filter(Q(requester_id__in=_requesters(term)) | _title_matches(term))
    return queryset.filter(_title_matches(term))


# What a list row loads with the item. The web list names the organization, project, folder and
# assignees; the API gives their ids and needs only the status key and the addresses of the
# requester and followers. Each join costs PostgreSQL planning time on every request: 8 ms for the
# five, under 1 ms for two.
NAMED_ROW = ("status", "requester", "organization", "project", "folder", "sla_clock__policy")
PLAIN_ROW = ("status", "requester", "sla_clock__policy")
# What a row of the agents' list shows (web.templatetags.rows.item_rows and work.workspace.attention).
WEB_ROW_FIELDS = (
    "id", "kind", "title", "status", "priority", "requester", "organization", "project", "folder", "updated_at",
    "last_customer_message_at", "last_agent_reply_at", "requester__email", "requester__name",
    "organization__name", "project__name", "folder__name", "sla_clock__policy__name",
    *(f"sla_clock__{field.name}" for field in ItemSla._meta.concrete_fields))


def item_list(kind: str, filters: ItemFilters = ItemFilters(), *, sort: str = "-id",
              names: bool = True, followers: bool = True) -> QuerySet[Item]:
    """One kind's items, filtered and sorted, with what a list row shows loaded in constant queries
    (`names=False`: what the API shows, ids instead of the organization, project, folder and
    assignee rows, and followers with their address only)."""
    if sort not in SORTS:
        raise Invalid("invalid_sort", f"Sort by one of {', '.join(SORTS)}.", field="sort")
    return with_row_data(_filtered(kind, filters), names=names, followers=followers).order_by(*SORTS[sort])


def item_page(kind: str, filters: ItemFilters = ItemFilters(), *, sort: str = "-id", offset: int = 0,
              limit: int = 50, names: bool = True, followers: bool = True) -> list[Item]:
    """The rows `offset` to `offset + limit` of item_list, in two steps: the ids, from the filters
    and the sort alone, then those rows with what a row shows. In one query PostgreSQL planned the
    row's six joins on every request (27 ms) and joined them for rows the page then dropped."""
    if sort not in SORTS:
        raise Invalid("invalid_sort", f"Sort by one of {', '.join(SORTS)}.", field="sort")
    ids = list(_filtered(kind, filters).order_by(*SORTS[sort]).values_list("pk", flat=True)[offset:offset + limit])
    if not ids:
        return []
    rows = with_row_data(Item.objects.filter(pk__in=ids), names=names, followers=followers)
    if names and not followers:  # the web list: the columns a row shows (a third of the time went to the rest)
        rows = rows.only(*WEB_ROW_FIELDS)
    by_id = {item.pk: item for item in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def _filtered(kind: str, filters: ItemFilters) -> QuerySet[Item]:
    queryset = Item.objects.filter(kind=kind)
    queryset = _status(queryset, kind, filters.status)
    queryset = _priority(queryset, filters.priority)
    queryset = _assignee(queryset, kind, filters.assignee)
    queryset = _by_id_or_none(queryset, filters.organization, field="organization")
    if filters.requester:
        queryset = queryset.filter(requester_id__in=_ids(filters.requester, field="requester"))
    queryset = _by_id_or_none(queryset, filters.project, field="project")
    queryset = _by_id_or_none(queryset, filters.folder, field="folder")
    queryset = _search(queryset, filters.search)
    queryset = _sla(queryset, filters.sla)
    return _updated_by(queryset, filters.updated_by)


def _updated_by(queryset: _Items, value: str) -> _Items:
    if not value:
        return queryset
    if value != "customer":
        raise Invalid("invalid_updated_by", gettext("updated_by is customer."), field="updated_by")
    return queryset.filter(last_customer_message_at__gte=timezone.now() - CUSTOMER_RECENT)


SLA_STATES = ("breached", "at_risk", "paused", "running", "met", NONE)


def _sla(queryset: _Items, value: str) -> _Items:
    """Items by the state of their SLA clock, as sla.services.sla_state names it."""
    if not value:
        return queryset
    if value not in SLA_STATES:
        raise Invalid("invalid_sla", f"sla is one of {', '.join(SLA_STATES)}.", field="sla")
    if value == NONE:
        return queryset.filter(sla_clock__isnull=True)
    breached = Q(sla_clock__first_response_breached_at__isnull=False) | Q(
        sla_clock__resolution_breached_at__isnull=False)
    if value == "breached":
        return queryset.filter(breached)
    met = Q(sla_clock__resolved_at__isnull=False) & (
        Q(sla_clock__first_response_due__isnull=True) | Q(sla_clock__first_responded_at__isnull=False))
    live = queryset.filter(sla_clock__isnull=False).exclude(breached)
    if value == "met":
        return live.filter(met)
    live = live.exclude(met)
    if value == "paused":
        return live.filter(sla_clock__paused_at__isnull=False)
    live = live.filter(sla_clock__paused_at__isnull=True)
    at_risk = Q(sla_clock__at_risk_at__isnull=False) | Q(sla_clock__at_risk_due__lte=timezone.now())
    return live.filter(at_risk) if value == "at_risk" else live.exclude(at_risk)


def item_count(kind: str, filters: ItemFilters, items: QuerySet[Item]) -> int:
    """How many items `items`, which is item_list(kind, filters), holds. An agent's or a team's
    items with no other filter are counted from the assignee index alone (an agent's 9 000 tickets:
    1 ms, where counting them through the items took 25 ms on PostgreSQL)."""
    if filters.assignee and filters.assignee != NONE and filters == ItemFilters(assignee=filters.assignee):
        rows = _assignments(kind, filters.assignee)
        # One agent or team is assigned to an item once (assignee_agent_once); several may share one.
        return rows.count() if "," not in filters.assignee else rows.values("item_id").distinct().count()
    return items.count()


def with_row_data(queryset: QuerySet[Item], *, names: bool = True, followers: bool = True) -> QuerySet[Item]:
    """Items with what a row shows: status, requester, organization, project and folder joined,
    and `item.assignee_rows` / `item.follower_rows` as lists, two queries for a whole page. A
    list `to_attr` spares the per-item querysets of a plain prefetch (a third of a page's time).
    `names=False`: assignees as ids only, followers with their address only (what the API shows).
    `followers=False`: no `follower_rows` (the web list does not show them)."""
    assignees = Assignee.objects.order_by("id")
    follower_rows = Follower.objects.select_related("agent", "customer").order_by("id")
    if names:
        assignees = assignees.select_related("agent", "team")
    else:
        follower_rows = follower_rows.only("item", "customer", "agent", "customer__email", "agent__email")
    people: list[Any] = [Prefetch("assignees", queryset=assignees, to_attr="assignee_rows")]
    if followers:
        people.append(Prefetch("followers", queryset=follower_rows, to_attr="follower_rows"))
    return queryset.select_related(*(NAMED_ROW if names else PLAIN_ROW)).prefetch_related(
        *people)


def get_item(item_id: int, *, kind: str | None = None) -> Item:
    """One item with its row data; NotFound for an unknown id (or one of the other kind)."""
    queryset = with_row_data(Item.objects.filter(pk=item_id))
    item = queryset.first()
    if item is None or (kind is not None and item.kind != kind):
        what = {"ticket": "ticket", "task": "task"}.get(kind or "", "item")
        raise NotFound(f"{what}_not_found", f"No {what} with id {item_id}.")
    return item


def conversation(item: Item, *, include_notes: bool = True) -> QuerySet[Message]:
    """The item's messages in order, with attachments; notes only for the team."""
    queryset = item.messages.select_related("author_agent", "author_customer").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))).order_by("id")
    if not include_notes:
        queryset = queryset.exclude(kind=MessageKind.NOTE)
    return queryset


def get_attachment(attachment_id: int) -> Attachment:
    attachment = Attachment.objects.select_related("message").filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("attachment_not_found", gettext("No attachment with id %(attachment_id)s.") % {"attachment_id": attachment_id})
    return attachment


def item_events(item: Item) -> QuerySet[AuditEvent]:
    """The item's history, oldest first: every change with its actor (agent, token, rule)."""
    return AuditEvent.objects.filter(object_type="item", object_id=item.pk).order_by("id")


def status_list(kind: str | None = None) -> QuerySet[Status]:
    queryset = Status.objects.all()
    return queryset.filter(kind=kind) if kind else queryset


def items_of_customer(customer: Customer, *, limit: int = 50) -> list[Item]:
    """What a customer asked for or follows, newest first (their profile)."""
    followed = Follower.objects.filter(customer=customer).values("item_id")
    return list(with_row_data(Item.objects.filter(Q(requester=customer) | Q(pk__in=followed))).order_by("-id")[:limit])


def items_of_organization(organization: Organization, *, limit: int = 50) -> list[Item]:
    return list(with_row_data(Item.objects.filter(organization=organization)).order_by("-id")[:limit])


# -- the customer portal ---------------------------------------------------------------------------


class PortalTab(StrEnum):
    ALL = ""  # everything the rule lets the customer see
    MINE = "mine"  # requested by the customer
    FOLLOWED = "followed"
    ORGANIZATION = "organization"


@dataclass(frozen=True)
class PortalViewer:
    """Who reads the portal: the customer, and whether their address is verified (an unverified
    address never sees its organization's requests)."""

    customer: Customer
    verified: bool

    @functools.cached_property
    def rule(self) -> str:
        """The visibility rule that applies to this customer: their organization's override, or
        the global setting; `organization` only for a verified member of one. Read once per
        request (the list, its tabs and its parts all ask)."""
        organization = self.customer.organization
        rule = (organization.portal_visibility if organization is not None else "") or str(
            get_setting("portal_visibility"))
        if rule == "organization" and (organization is None or not self.verified):
            return "requested_or_following"
        return rule


def portal_rule(viewer: PortalViewer) -> str:
    return viewer.rule


def portal_tabs(viewer: PortalViewer) -> list[PortalTab]:
    rule = portal_rule(viewer)
    tabs = [PortalTab.MINE]
    if rule in ("requested_or_following", "organization"):
        tabs.append(PortalTab.FOLLOWED)
    if rule == "organization":
        tabs.append(PortalTab.ORGANIZATION)
    return tabs


def _portal_branches(viewer: PortalViewer, tab: PortalTab) -> list[Q]:
    """The parts of the customer's view this tab shows (none when the rule does not allow it)."""
    customer = viewer.customer
    rule = portal_rule(viewer)
    mine = Q(requester=customer)
    followed = Q(pk__in=Follower.objects.filter(customer=customer).values("item_id"))
    organization = Q(organization_id=customer.organization_id)
    allowed = {"requested": [mine], "requested_or_following": [mine, followed],
               "organization": [mine, followed, organization]}[rule]
    wanted = {PortalTab.MINE: [mine], PortalTab.FOLLOWED: [followed], PortalTab.ORGANIZATION: [organization],
              PortalTab.ALL: allowed}[tab]
    return [] if any(part not in allowed for part in wanted) else wanted


def _portal_filtered(parts: list[Q], search: str, status: str) -> QuerySet[Item]:
    """The tickets of these parts of a customer's view, filtered."""
    if not parts:
        return Item.objects.none()
    scope = Q()
    for part in parts:
        scope |= part
    queryset = Item.objects.filter(scope, kind=Kind.TICKET)
    if status:
        queryset = queryset.filter(status__category=status) if status in Category.values else queryset.none()
    if search.strip():
        queryset = queryset.filter(_title_matches(search.strip()[:200]))
    return queryset


def portal_items(viewer: PortalViewer, *, tab: PortalTab = PortalTab.ALL, search: str = "",
                 status: str = "") -> QuerySet[Item]:
    """The one way the portal reads requests: tickets within the visibility rule (DESIGN §2.13),
    latest activity first."""
    return _portal_filtered(_portal_branches(viewer, tab), search, status).select_related(
        "status", "requester").order_by("-updated_at", "-id")


MAX_PORTAL_PAGE = 400


def portal_page(viewer: PortalViewer, *, tab: PortalTab = PortalTab.ALL, search: str = "", status: str = "",
                page: int = 1, per_page: int = 25) -> tuple[list[Item], bool]:
    """One page of `portal_items` and whether more follow. Each part of the view (requested,
    followed, the organization's) is read in order through its own index and the parts are merged:
    one query with their OR would sort all of an organization's 50 000 tickets for every page."""
    page = max(1, min(page, MAX_PORTAL_PAGE))
    limit = page * per_page + 1
    keys: set[tuple[Any, int]] = set()
    for part in _portal_branches(viewer, tab):
        keys.update(_portal_filtered([part], search, status).order_by("-updated_at", "-id")
                    .values_list("updated_at", "id")[:limit])
    ids = [pk for _updated, pk in sorted(keys, reverse=True)[(page - 1) * per_page:limit]]
    found = Item.objects.select_related("status", "requester").in_bulk(ids)
    rows = [found[pk] for pk in ids if pk in found]
    return rows[:per_page], len(rows) > per_page


def portal_item(viewer: PortalViewer, item_id: int) -> Item:
    """One request the customer may see; NotFound otherwise, the same for one that does not
    exist (ids are not enumerable)."""
    item = portal_items(viewer).filter(pk=item_id).first()
    if item is None:
        raise NotFound("request_not_found", gettext("There is no such request."))
    return item


# -- projects ------------------------------------------------------------------------------------


def portfolio_list(*, search: str = "") -> QuerySet[Portfolio]:
    queryset = Portfolio.objects.annotate(project_count=Count("projects")).order_by(Lower("name"), "id")
    term = search_term(search)
    return queryset.filter(name__icontains=term) if term else queryset


def project_list(*, search: str = "", portfolio: str = "", organization: str = "") -> QuerySet[Project]:
    queryset = Project.objects.select_related("portfolio", "organization").order_by(Lower("name"), "id")
    term = search_term(search)
    if term:
        queryset = queryset.filter(name__icontains=term)
    if portfolio:
        queryset = queryset.filter(portfolio__isnull=True) if portfolio == NONE else queryset.filter(
            portfolio_id__in=_ids(portfolio, field="portfolio"))
    if organization:
        queryset = queryset.filter(organization__isnull=True) if organization == NONE else queryset.filter(
            organization_id__in=_ids(organization, field="organization"))
    return queryset


def folder_list(*, search: str = "", project: str = "") -> QuerySet[Folder]:
    queryset = Folder.objects.select_related("project").order_by("project__name", "name", "id")
    term = search_term(search)
    if term:
        queryset = queryset.filter(name__icontains=term)
    if project:
        queryset = queryset.filter(project_id__in=_ids(project, field="project"))
    return queryset


@dataclass
class ProjectMenu:
    """What an item's project menu offers: every project, and the folders of the item's project."""

    projects: list[Project]
    folders: list[Folder]


def project_menu(item: Item) -> ProjectMenu:
    """The item page loads this when its project menu is opened, not with the page: 200 projects
    and 425 folders cost more to render than the rest of the page."""
    folders = list(folder_list(project=str(item.project_id))) if item.project_id else []
    return ProjectMenu(list(project_list()), folders)


def _get(queryset: QuerySet[_Record], pk: int, what: str) -> _Record:
    record = queryset.filter(pk=pk).first()
    if record is None:
        raise NotFound(f"{what}_not_found", f"No {what} with id {pk}.")
    return record


def get_portfolio(portfolio_id: int) -> Portfolio:
    return _get(Portfolio.objects.all(), portfolio_id, "portfolio")


def get_project(project_id: int) -> Project:
    return _get(Project.objects.select_related("portfolio", "organization"), project_id, "project")


def get_folder(folder_id: int) -> Folder:
    return _get(Folder.objects.select_related("project"), folder_id, "folder")


@dataclass
class ProjectNode:
    project: Project
    folders: list[tuple[Folder, int]]
    count: int
    unfiled: int


@dataclass
class PortfolioNode:
    portfolio: Portfolio | None
    projects: list[ProjectNode]


def _open_status_ids(kind: str) -> list[int]:
    return list(Status.objects.filter(kind=kind).exclude(category=Category.DONE).values_list("pk", flat=True))


def _open_counts(kind: str) -> dict[tuple[int | None, int | None], int]:
    """Items not done per (project, folder); `(None, None)` holds those in no project. Read from
    the item_tree_idx index alone: the projects' counts by group, the rest as the open total minus
    them (grouping every open ticket by project took 600 ms at 200 000 tickets)."""
    open_ids = _open_status_ids(kind)
    rows = (Item.objects.filter(kind=kind, project__isnull=False, status_id__in=open_ids)
            .values_list("project_id", "folder_id").annotate(n=Count("id")).order_by())
    counts = {(project, folder): n for project, folder, n in rows}
    total = Item.objects.filter(kind=kind, status_id__in=open_ids).count()
    counts[(None, None)] = total - sum(counts.values())
    return counts


def _folders_of(projects: list[Project]) -> dict[int, list[Folder]]:
    folders_by_project: dict[int, list[Folder]] = {}
    for folder in Folder.objects.filter(project__in=projects).order_by(Lower("name"), "id"):
        folders_by_project.setdefault(folder.project_id, []).append(folder)
    return folders_by_project


def _project_nodes(projects: list[Project], counts: dict[tuple[int | None, int | None], int],
                   folders_by_project: dict[int, list[Folder]] | None = None) -> list[ProjectNode]:
    if folders_by_project is None:
        folders_by_project = _folders_of(projects)
    nodes = []
    for project in projects:
        folders = [(folder, counts.get((project.pk, folder.pk), 0)) for folder in folders_by_project.get(project.pk, [])]
        unfiled = counts.get((project.pk, None), 0)
        nodes.append(ProjectNode(project, folders, unfiled + sum(n for _f, n in folders), unfiled))
    return nodes


def portfolio_tree(kind: str, *, portfolios_enabled: bool = True, projects: list[Project] | None = None,
                   folders: list[Folder] | None = None) -> tuple[list[PortfolioNode], int]:
    """By portfolio: portfolio → project → folder with open-item counts, and the count of open
    items in no project. Without portfolios, one node holds every project. `projects` (as
    `project_list()` orders them) and `folders`: what the caller read already."""
    counts = _open_counts(kind)
    if projects is None:
        projects = list(Project.objects.select_related("organization").order_by(Lower("name"), "id"))
    folders_by_project: dict[int, list[Folder]] | None = None
    if folders is not None:
        folders_by_project = {}
        for folder in sorted(folders, key=lambda folder: (folder.name.lower(), folder.pk)):
            folders_by_project.setdefault(folder.project_id, []).append(folder)
    nodes = _project_nodes(projects, counts, folders_by_project)
    unprojected = sum(n for (project, _folder), n in counts.items() if project is None)
    if not portfolios_enabled:
        return [PortfolioNode(None, nodes)], unprojected
    by_portfolio: dict[int | None, list[ProjectNode]] = {}
    for node in nodes:
        by_portfolio.setdefault(node.project.portfolio_id, []).append(node)
    tree = [PortfolioNode(portfolio, by_portfolio.get(portfolio.pk, [])) for portfolio in Portfolio.objects.all()]
    if by_portfolio.get(None):
        tree.append(PortfolioNode(None, by_portfolio[None]))
    return tree, unprojected


@dataclass
class OrganizationNode:
    organization: Organization
    projects: list[ProjectNode]
    unprojected: int
    count: int


def customer_tree(kind: str, *, page: int = 1, per_page: int = 50, search: str = "") -> tuple[list[OrganizationNode], int]:
    """By customer: organizations that have items or projects → their projects → items, plus
    each organization's items outside any project. Returns one page and the number of organizations."""
    # EXISTS probes the (kind, organization) index once per organization; an IN over every item
    # hashed 200 000 rows first.
    has_items = Exists(Item.objects.filter(kind=kind, organization=OuterRef("pk")))
    has_projects = Exists(Project.objects.filter(organization=OuterRef("pk")))
    organizations = Organization.objects.filter(has_items | has_projects).order_by(Lower("name"), "id")
    term = search_term(search)
    if term:
        organizations = organizations.filter(name__icontains=term)
    total = organizations.count()
    page_rows = list(organizations[(page - 1) * per_page: page * per_page])
    rows = (Item.objects.filter(kind=kind, organization__in=page_rows, status_id__in=_open_status_ids(kind))
            .values_list("organization_id", "project_id", "folder_id").annotate(n=Count("id")).order_by())
    counts: dict[int, dict[tuple[int | None, int | None], int]] = {}
    for organization_id, project_id, folder_id, n in rows:
        counts.setdefault(organization_id, {})[(project_id, folder_id)] = n
    projects = list(Project.objects.filter(organization__in=page_rows).order_by(Lower("name"), "id"))
    # Items of an organization may sit in projects that belong to nobody (or to someone else).
    other_ids = {project_id for by_org in counts.values() for (project_id, _f) in by_org if project_id} - {
        project.pk for project in projects}
    projects += list(Project.objects.filter(pk__in=other_ids).order_by(Lower("name"), "id"))
    folders = _folders_of(projects)
    nodes = []
    for organization in page_rows:
        organization_counts = counts.get(organization.pk, {})
        used = {project_id for (project_id, _f) in organization_counts}
        own = [p for p in projects if p.organization_id == organization.pk or p.pk in used]
        project_nodes = _project_nodes(own, organization_counts, folders)
        unprojected = sum(n for (project_id, _f), n in organization_counts.items() if project_id is None)
        nodes.append(OrganizationNode(organization, project_nodes, unprojected, sum(organization_counts.values())))
    return nodes, total


# -- timesheets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeFilters:
    agent: str = ""
    item: str = ""
    project: str = ""
    organization: str = ""
    date_from: str = ""
    date_to: str = ""
    billable: str = ""      # "yes", "no" or ""

    @classmethod
    def from_mapping(cls, data: Any) -> TimeFilters:
        return cls(**{f.name: str(data.get(f.name) or "").strip()[:100] for f in fields(cls)})

    def as_query(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def _day(value: str, field: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise Invalid("invalid_date", gettext("A date is written YYYY-MM-DD."), field=field) from None


def time_entry_list(filters: TimeFilters = TimeFilters()) -> QuerySet[TimeEntry]:
    queryset = TimeEntry.objects.select_related("agent", "item", "item__project", "item__organization")
    if filters.agent:
        queryset = queryset.filter(agent_id__in=_ids(filters.agent, field="agent"))
    if filters.item:
        queryset = queryset.filter(item_id__in=_ids(filters.item.lstrip("#"), field="item"))
    if filters.project:
        queryset = queryset.filter(item__project__isnull=True) if filters.project == NONE else queryset.filter(
            item__project_id__in=_ids(filters.project, field="project"))
    if filters.organization:
        queryset = (queryset.filter(item__organization__isnull=True) if filters.organization == NONE
                    else queryset.filter(item__organization_id__in=_ids(filters.organization, field="organization")))
    if filters.date_from:
        queryset = queryset.filter(date__gte=_day(filters.date_from, "date_from"))
    if filters.date_to:
        queryset = queryset.filter(date__lte=_day(filters.date_to, "date_to"))
    if filters.billable:
        if filters.billable not in ("yes", "no"):
            raise Invalid("invalid_billable", gettext("billable is yes or no."), field="billable")
        queryset = queryset.filter(billable=filters.billable == "yes")
    return queryset.order_by("-date", "-id")


@dataclass
class TimeTotal:
    key: int | None
    label: str
    minutes: int
    billable_minutes: int


def time_totals(entries: QuerySet[TimeEntry], *, by: str) -> list[TimeTotal]:
    """Minutes (all and billable) per item, project, organization or agent, largest first."""
    paths = {"item": ("item_id", "item__title"), "project": ("item__project_id", "item__project__name"),
             "organization": ("item__organization_id", "item__organization__name"),
             "agent": ("agent_id", "agent__email")}
    if by not in paths:
        raise Invalid("invalid_group", f"Totals are by {', '.join(paths)}.", field="by")
    key, label = paths[by]
    rows = (entries.order_by().values(key, label)
            .annotate(total=Sum("minutes"), billable_total=Sum("minutes", filter=Q(billable=True)))
            .order_by("-total", key))
    none_label = {"project": "No project", "organization": "No organization"}.get(by, "")
    return [TimeTotal(row[key], (f"#{row[key]} {row[label]}" if by == "item" else row[label]) or none_label,
                      row["total"] or 0, row["billable_total"] or 0) for row in rows]


def total_minutes(entries: QuerySet[TimeEntry]) -> tuple[int, int]:
    row = entries.order_by().aggregate(total=Sum("minutes"), billable_total=Sum("minutes", filter=Q(billable=True)))
    return row["total"] or 0, row["billable_total"] or 0


def get_time_entry(entry_id: int) -> TimeEntry:
    entry = TimeEntry.objects.select_related("agent", "item").filter(pk=entry_id).first()
    if entry is None:
        raise NotFound("time_entry_not_found", gettext("No time entry with id %(entry_id)s.") % {"entry_id": entry_id})
    return entry


TIME_COLUMNS = ("date", "agent", "item", "title", "project", "organization", "minutes", "billable", "note")


def time_entry_rows(entries: QuerySet[TimeEntry]) -> Any:
    """CSV rows of a timesheet (header first), streamed."""
    yield list(TIME_COLUMNS)
    for entry in entries.iterator(chunk_size=1000):
        yield [
            entry.date.isoformat(), entry.agent.email, entry.item.reference, entry.item.title,
            entry.item.project.name if entry.item.project else "",
            entry.item.organization.name if entry.item.organization else "",
            entry.minutes, "yes" if entry.billable else "no", entry.note,
        ]


