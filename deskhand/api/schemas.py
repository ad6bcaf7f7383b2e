"""Request and response shapes of REST API v1 (DESIGN §7). Each response shape is defined once,
here: routes return records and the `resolve_*` methods say how a field is read from them. Each
request shape builds the typed input of the service it feeds (`to_input`, `to_draft`,
`to_changes`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from django.urls import reverse
from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

from deskhand.agents.models import Agent, Team
from deskhand.api.auth import actor_of
from deskhand.audit.models import AuditEvent
from deskhand.automations.inputs import AutomationChanges
from deskhand.automations.models import Automation
from deskhand.automations.rules import (
    Action,
    ActionType,
    AssignMode,
    Condition,
    ItemKind,
    Op,
    Rule,
    Since,
    Trigger,
    TriggerType,
)
from deskhand.core.errors import Invalid
from deskhand.core.inputs import UNSET, Maybe
from deskhand.core.numbers import MAX_ID
from deskhand.customers.inputs import CustomerChanges, CustomerTypeChanges, OrganizationChanges
from deskhand.customers.models import Customer, Organization
from deskhand.fields.inputs import FieldChanges
from deskhand.fields.queries import custom_field_list
from deskhand.mail.inputs import ImapSettings, MailboxChanges
from deskhand.mail.models import InboundEmail, Mailbox, NeverFollow, OutboundMessage
from deskhand.sla.inputs import HoursInput, PolicyChanges, PolicyInput, TargetInput
from deskhand.sla.models import ItemSla, SlaPolicy, SlaTarget
from deskhand.sla.services import sla_summary
from deskhand.surveys.models import SurveyRequest
from deskhand.work import inputs
from deskhand.work.models import (
    Attachment,
    Folder,
    Follower,
    Item,
    Message,
    Portfolio,
    Priority,
    Project,
    TimeEntry,
)

Json = Any
# JSON numbers have no size limit and Python's int neither; the database's bigint has. An id past
# it (or a position or a count of minutes) is a 422 naming the field, never an OverflowError.
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Int64 = Annotated[StrictInt, Field(ge=-MAX_ID - 1, le=MAX_ID)]
T = TypeVar("T")
Context = dict[str, Any] | None  # ninja's: {"request": …, "response_status": …}


def _field_keys(applies_to: str, context: Context) -> set[str]:
    """The keys of the custom fields defined for `applies_to`, read once per response."""
    request = context.get("request") if context else None
    cache: dict[str, set[str]] = request.__dict__.setdefault("_field_keys", {}) if request is not None else {}
    if applies_to not in cache:
        cache[applies_to] = set(custom_field_list(applies_to=applies_to).values_list("key", flat=True))
    return cache[applies_to]


def defined_values(values: dict[str, Any], applies_to: str, context: Context) -> dict[str, Any]:
    """Custom field values whose field is still defined: a deleted definition's values stay
    stored but are no longer shown."""
    keys = _field_keys(applies_to, context)
    return {key: value for key, value in values.items() if key in keys}


def asked_by_admin(context: Context) -> bool:
    request = context.get("request") if context else None
    return request is not None and actor_of(request).is_admin


def _sent(schema: Schema, name: str, value: T) -> Maybe[T]:
    """A PATCH field as a change: UNSET when the body left it out."""
    return value if name in schema.model_fields_set else UNSET


def _sent_not_null(schema: Schema, name: str, value: T | None, *, field: str | None = None) -> Maybe[T]:
    """A PATCH field that may be left out but not sent as null."""
    if name not in schema.model_fields_set:
        return UNSET
    if value is None:
        raise Invalid(f"invalid_{name}", f"{name.replace('_', ' ').capitalize()} cannot be null.", field=field or name)
    return value


class CustomerOut(Schema):
    id: int
    email: str
    name: str
    phone: str
    language: str
    notes: str
    organization: int | None
    organization_name: str | None
    customer_type: str | None
    placed_manually: bool
    custom_fields: dict[str, Json]
    source: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_organization(obj: Customer) -> int | None:
        return obj.organization_id

    @staticmethod
    def resolve_organization_name(obj: Customer) -> str | None:
        return obj.organization.name if obj.organization else None

    @staticmethod
    def resolve_customer_type(obj: Customer) -> str | None:
        return obj.customer_type.name if obj.customer_type else None

    @staticmethod
    def resolve_custom_fields(obj: Customer, context: Context) -> dict[str, Any]:
        return defined_values(obj.custom_fields, "customer", context)


class CustomerListOut(Schema):
    items: list[CustomerOut]
    count: int


class CustomerIn(Schema):
    email: str = Field(max_length=2000)
    name: str = ""
    phone: str = ""
    language: str = ""
    notes: str = ""
    customer_type: Id | str | None = None
    organization: Id | None = Field(None, description="Omit to let the domain rule decide; null for No organization.")
    custom_fields: dict[str, Json] = {}


class CustomerPatch(Schema):
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    language: str | None = None
    notes: str | None = None
    customer_type: Id | str | None = None
    organization: Id | None = Field(None, description="A manual move; null for No organization.")
    custom_fields: dict[str, Json] | None = None

    def to_changes(self, *, organization: Maybe[Organization | None]) -> CustomerChanges:
        """`organization`: the record the body's id names (looked up by the route), or UNSET."""
        return CustomerChanges(
            email=_sent(self, "email", self.email or ""), name=_sent(self, "name", self.name or ""),
            phone=_sent(self, "phone", self.phone or ""), language=_sent(self, "language", self.language or ""),
            notes=_sent(self, "notes", self.notes or ""), customer_type=_sent(self, "customer_type", self.customer_type),
            custom_fields=_sent(self, "custom_fields", self.custom_fields or {}),
            organization=organization)


class MergeIn(Schema):
    into: Id


class InviteOut(Schema):
    customer: int
    email: str = Field(description="Where the invitation went.")
    verified: bool = Field(description="Whether the address was verified before (a sign-in link or registration).")


class OrganizationOut(Schema):
    id: int
    name: str
    domains: list[str]
    customer_count: int
    notes: str
    source: str
    custom_fields: dict[str, Json]
    portal_visibility: str | None = Field(description="What its members see in the portal: requested, "
                                                      "requested_or_following or organization; null: the setting.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_portal_visibility(obj: Organization) -> str | None:
        return obj.portal_visibility or None

    @staticmethod
    def resolve_domains(obj: Organization) -> list[str]:
        return [row.domain for row in obj.domains.all()]

    @staticmethod
    def resolve_customer_count(obj: Organization) -> int:
        return getattr(obj, "customer_count", 0)  # annotated by customers.queries

    @staticmethod
    def resolve_custom_fields(obj: Organization, context: Context) -> dict[str, Any]:
        return defined_values(obj.custom_fields, "organization", context)


class OrganizationListOut(Schema):
    items: list[OrganizationOut]
    count: int


class OrganizationIn(Schema):
    name: str = Field(max_length=2000)
    domains: list[str] = []
    notes: str = ""
    custom_fields: dict[str, Json] = {}
    apply_to_existing: bool = False


class OrganizationPatch(Schema):
    name: str | None = None
    notes: str | None = None
    custom_fields: dict[str, Json] | None = None
    portal_visibility: StrictStr | None = Field(None, max_length=40, description="null: follow the setting.")

    def to_changes(self) -> OrganizationChanges:
        return OrganizationChanges(name=_sent(self, "name", self.name or ""),
                                   notes=_sent(self, "notes", self.notes or ""),
                                   custom_fields=_sent(self, "custom_fields", self.custom_fields or {}),
                                   portal_visibility=_sent(self, "portal_visibility", self.portal_visibility))


class DomainIn(Schema):
    domain: str = Field(max_length=2000)
    apply_to_existing: bool = False


class DomainOut(Schema):
    domain: str
    organization: int
    moved_customers: int


class EventOut(Schema):
    """One row of a history (an AuditEvent)."""

    id: int
    actor: str
    actor_kind: str
    action: str
    detail: dict[str, Json]
    created_at: datetime

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> str:
        return obj.actor_label

    @staticmethod
    def resolve_detail(obj: AuditEvent) -> dict[str, Any]:
        return dict(obj.changes or {})


class EventListOut(Schema):
    items: list[EventOut]
    count: int


class CustomerTypeOut(Schema):
    id: int
    name: str
    color: str
    visible: bool
    position: int


class CustomerTypeIn(Schema):
    name: str
    color: str = "#6b7280"
    visible: bool = True


class CustomerTypePatch(Schema):
    name: str | None = None
    color: str | None = None
    visible: bool | None = None
    position: Int64 | None = None

    def to_changes(self) -> CustomerTypeChanges:
        return CustomerTypeChanges(name=_sent(self, "name", self.name or ""),
                                   color=_sent(self, "color", self.color or ""),
                                   visible=_sent_not_null(self, "visible", self.visible),
                                   position=_sent_not_null(self, "position", self.position))


class CustomFieldOut(Schema):
    id: int
    applies_to: str
    key: str
    label: str
    type: str
    required: bool
    choices: list[str]
    help_text: str
    position: int


class CustomFieldIn(Schema):
    applies_to: str
    label: str
    type: str
    key: str = ""
    required: bool = False
    choices: list[str] = []
    help_text: str = ""


class CustomFieldPatch(Schema):
    label: str | None = None
    required: bool | None = None
    choices: list[str] | None = None
    help_text: str | None = None
    position: Int64 | None = None

    def to_changes(self) -> FieldChanges:
        return FieldChanges(label=_sent(self, "label", self.label or ""),
                            required=_sent_not_null(self, "required", self.required),
                            choices=_sent(self, "choices", self.choices or []),
                            help_text=_sent(self, "help_text", self.help_text or ""),
                            position=_sent_not_null(self, "position", self.position))


class AgentOut(Schema):
    id: int
    email: str
    name: str
    is_admin: bool | None = Field(None, description="Shown to admins only.")
    is_active: bool
    teams: list[int]
    created_at: datetime | None = Field(None, description="Shown to admins only.")

    @staticmethod
    def resolve_is_admin(obj: Agent, context: Context) -> bool | None:
        return obj.is_admin if asked_by_admin(context) else None

    @staticmethod
    def resolve_created_at(obj: Agent, context: Context) -> datetime | None:
        return obj.created_at if asked_by_admin(context) else None

    @staticmethod
    def resolve_teams(obj: Agent) -> list[int]:
        return [team.pk for team in obj.teams.all()]


class AgentIn(Schema):
    email: str = Field(max_length=2000)
    name: str = ""
    password: str | None = None
    is_admin: bool = False


class TeamOut(Schema):
    id: int
    name: str
    email: str
    members: list[int]

    @staticmethod
    def resolve_members(obj: Team) -> list[int]:
        return [agent.pk for agent in obj.members.all()]


class TeamIn(Schema):
    name: str
    email: StrictStr = Field("", description="Optional: the team's address.")
    members: list[Id] = []


class ImportRowOut(Schema):
    line: int
    email: str
    result: str
    customer: int | None
    organization: str | None
    reason: str | None
    changes: dict[str, dict[str, Any]] = {}  # a matched row's fields: {"old": …, "new": …}


class ImportOut(Schema):
    dry_run: bool
    update_existing: bool = True
    created: int
    matched: int
    changed: int = 0  # matched rows with at least one change (applied when update_existing)
    errors: int
    rows: list[ImportRowOut]


# -- work: tickets, tasks and their conversation --------------------------------------------------


class AssigneeRef(Schema):
    type: Literal["agent", "team"]
    id: Id

    def to_input(self) -> inputs.AssigneeRef:
        return inputs.AssigneeRef(kind=self.type, id=self.id)


class FollowerOut(Schema):
    """A Follower row: one customer or one agent (the follower_agent_xor_customer constraint)."""

    type: Literal["customer", "agent"]
    id: int
    email: str

    @staticmethod
    def resolve_type(obj: Follower) -> str:
        return "customer" if obj.customer_id else "agent"

    @staticmethod
    def resolve_id(obj: Follower) -> int | None:
        return obj.customer_id or obj.agent_id

    @staticmethod
    def resolve_email(obj: Follower) -> str:
        person = obj.customer or obj.agent
        return person.email if person else ""


class FollowerIn(Schema):
    type: Literal["customer", "agent"]
    id: Id | None = Field(None, description="The customer's or agent's id.")
    email: StrictStr | None = Field(None, description="A customer by address, found or created by the customer rules.")

    def to_input(self) -> inputs.FollowerRef:
        return inputs.FollowerRef(kind=self.type, id=self.id, email=self.email or "")


class ItemOut(Schema):
    id: int
    reference: str
    title: str
    description: str
    status: str
    priority: str
    requester: int | None
    requester_email: str | None
    organization: int | None
    assignees: list[AssigneeRef]
    followers: list[FollowerOut]
    project: int | None
    folder: int | None
    channel: str
    sla: Json
    custom_fields: dict[str, Json]
    created_at: datetime
    updated_at: datetime

    # An item comes with work.queries.with_row_data: its status, requester and people loaded.
    @staticmethod
    def resolve_status(obj: Item) -> str:
        return obj.status.key

    @staticmethod
    def resolve_priority(obj: Item) -> str:
        return Priority(obj.priority).key

    @staticmethod
    def resolve_requester(obj: Item) -> int | None:
        return obj.requester_id

    @staticmethod
    def resolve_requester_email(obj: Item) -> str | None:
        return obj.requester.email if obj.requester else None

    @staticmethod
    def resolve_organization(obj: Item) -> int | None:
        return obj.organization_id

    @staticmethod
    def resolve_assignees(obj: Item) -> list[dict[str, Any]]:
        return [{"type": "agent", "id": row.agent_id} if row.agent_id else {"type": "team", "id": row.team_id}
                for row in obj.assignee_rows]

    @staticmethod
    def resolve_followers(obj: Item) -> list[Follower]:
        return obj.follower_rows

    @staticmethod
    def resolve_project(obj: Item) -> int | None:
        return obj.project_id

    @staticmethod
    def resolve_folder(obj: Item) -> int | None:
        return obj.folder_id

    @staticmethod
    def resolve_sla(obj: Item) -> dict[str, Any] | None:
        try:
            clock = obj.sla_clock
        except ItemSla.DoesNotExist:
            return None
        return sla_summary(clock)

    @staticmethod
    def resolve_custom_fields(obj: Item, context: Context) -> dict[str, Any]:
        return defined_values(obj.custom_fields, obj.kind, context)


class ItemListOut(Schema):
    items: list[ItemOut]
    count: int


class ItemIn(Schema):
    title: StrictStr
    description: StrictStr = ""
    requester: Id | None = Field(None, description="A customer id (or give requester_email).")
    requester_email: StrictStr | None = Field(None, description="Found or created by the customer rules.")
    requester_name: StrictStr = ""
    status: StrictStr | None = Field(None, description="A status key; the first status of the category new by default.")
    priority: StrictStr | None = Field(None, description="low, normal, high or urgent; normal by default.")
    assignees: list[AssigneeRef] | None = None
    followers: list[FollowerIn] | None = None
    project: Id | None = None
    folder: Id | None = None
    custom_fields: dict[str, Json] | None = None

    def to_draft(self) -> inputs.ItemDraft:
        return inputs.ItemDraft(
            title=self.title, description=self.description, requester=self.requester,
            requester_email=self.requester_email, requester_name=self.requester_name, status=self.status,
            priority=self.priority, assignees=[ref.to_input() for ref in self.assignees or []],
            followers=[ref.to_input() for ref in self.followers or []], project=self.project, folder=self.folder,
            custom_fields=self.custom_fields or {})


class TaskFromTicketIn(Schema):
    """A task made from a ticket: the ticket's requester and organization, so no requester here."""

    title: StrictStr
    description: StrictStr = ""
    status: StrictStr | None = None
    priority: StrictStr | None = None
    assignees: list[AssigneeRef] | None = None
    project: Id | None = None
    folder: Id | None = None
    custom_fields: dict[str, Json] | None = None

    def to_draft(self) -> inputs.ItemDraft:
        return inputs.ItemDraft(
            title=self.title, description=self.description, status=self.status, priority=self.priority,
            assignees=[ref.to_input() for ref in self.assignees or []], project=self.project, folder=self.folder,
            custom_fields=self.custom_fields or {})


class ItemPatch(Schema):
    title: StrictStr | None = None
    description: StrictStr | None = None
    status: StrictStr | None = None
    priority: StrictStr | None = None
    requester: Id | None = None
    requester_email: StrictStr | None = None
    assignees: list[AssigneeRef] | None = None
    followers: list[FollowerIn] | None = None
    project: Id | None = Field(None, description="null takes the item out of its project.")
    folder: Id | None = Field(None, description="A folder of the item's (new) project, or null.")
    custom_fields: dict[str, Json] | None = None

    def to_changes(self) -> inputs.ItemChanges:
        # null for a text or a list means empty (a title then is refused as missing; no assignees).
        return inputs.ItemChanges(
            title=_sent(self, "title", self.title or ""),
            description=_sent(self, "description", self.description or ""),
            status=_sent(self, "status", self.status or ""),
            priority=_sent(self, "priority", self.priority or ""),
            requester=_sent(self, "requester", self.requester),
            requester_email=_sent(self, "requester_email", self.requester_email),
            assignees=_sent(self, "assignees", [ref.to_input() for ref in self.assignees or []]),
            followers=_sent(self, "followers", [ref.to_input() for ref in self.followers or []]),
            project=_sent(self, "project", self.project),
            folder=_sent(self, "folder", self.folder),
            custom_fields=_sent(self, "custom_fields", self.custom_fields or {}))


class BulkChanges(Schema):
    status: StrictStr | None = None
    priority: StrictStr | None = None
    assignees: list[AssigneeRef] | None = None
    project: Id | None = None
    folder: Id | None = None

    def to_changes(self) -> inputs.BulkChanges:
        return inputs.BulkChanges(
            status=_sent(self, "status", self.status or ""),
            priority=_sent(self, "priority", self.priority or ""),
            assignees=_sent(self, "assignees", [ref.to_input() for ref in self.assignees or []]),
            project=_sent(self, "project", self.project),
            folder=_sent(self, "folder", self.folder))


class BulkChangeIn(Schema):
    items: list[Id] = Field(max_length=500, description="Ids of tickets (or tasks), at most 500.")
    changes: BulkChanges


class BulkChangeOut(Schema):
    changed: int


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str

    @staticmethod
    def resolve_url(obj: Attachment) -> str:
        return reverse("api:attachment-download", kwargs={"attachment_id": obj.pk})


class DeliveryOut(Schema):
    """What became of a mail a message caused (an outbox row): queued, sent, kept (no EMAIL_URL)
    or failed, with the server's answer."""

    kind: str
    to: list[str]
    status: str
    attempts: int
    error: str
    sent_at: datetime | None

    @staticmethod
    def resolve_to(obj: OutboundMessage) -> list[str]:
        return list(obj.to)

    @staticmethod
    def resolve_error(obj: OutboundMessage) -> str:
        return str(obj.last_error)


class MessageOut(Schema):
    id: int
    kind: str
    channel: str
    author_email: str
    author_name: str
    body: str
    body_html: str
    full_body: str
    attachments: list[AttachmentOut]
    recipients: list[str]
    delivery: list[DeliveryOut]
    created_at: datetime

    # A message comes with work.queries.conversation: attachments and outbox rows prefetched.
    @staticmethod
    def resolve_recipients(obj: Message) -> list[str]:
        return list(obj.recipients or [])

    @staticmethod
    def resolve_delivery(obj: Message) -> list[OutboundMessage]:
        return list(obj.outbound.all())


class MessageListOut(Schema):
    items: list[MessageOut]
    count: int


class MessageIn(Schema):
    body: StrictStr
    # A reply's copies (the service checks each address and allows 10 of each).
    cc: list[StrictStr] = Field(default_factory=list, max_length=50)
    bcc: list[StrictStr] = Field(default_factory=list, max_length=50)


# -- projects, timesheets, statuses ---------------------------------------------------------------


class PortfolioOut(Schema):
    id: int
    name: str
    project_count: int
    created_at: datetime

    @staticmethod
    def resolve_project_count(obj: Portfolio) -> int:
        count = getattr(obj, "project_count", None)  # annotated by work.queries.portfolio_list
        return obj.projects.count() if count is None else count


class PortfolioListOut(Schema):
    items: list[PortfolioOut]
    count: int


class NameIn(Schema):
    name: StrictStr


class NamePatch(Schema):
    name: StrictStr | None = None


class ProjectOut(Schema):
    id: int
    name: str
    portfolio: int | None
    portfolio_name: str | None
    organization: int | None
    organization_name: str | None
    created_at: datetime

    @staticmethod
    def resolve_portfolio(obj: Project) -> int | None:
        return obj.portfolio_id

    @staticmethod
    def resolve_portfolio_name(obj: Project) -> str | None:
        return obj.portfolio.name if obj.portfolio else None

    @staticmethod
    def resolve_organization(obj: Project) -> int | None:
        return obj.organization_id

    @staticmethod
    def resolve_organization_name(obj: Project) -> str | None:
        return obj.organization.name if obj.organization else None


class ProjectListOut(Schema):
    items: list[ProjectOut]
    count: int


class ProjectIn(Schema):
    name: StrictStr
    portfolio: Id | None = None
    organization: Id | None = None


class ProjectPatch(Schema):
    name: StrictStr | None = None
    portfolio: Id | None = None
    organization: Id | None = None

    def to_changes(self) -> inputs.ProjectChanges:
        return inputs.ProjectChanges(name=_sent(self, "name", self.name or ""),
                                     portfolio=_sent(self, "portfolio", self.portfolio),
                                     organization=_sent(self, "organization", self.organization))


class FolderOut(Schema):
    id: int
    name: str
    project: int
    project_name: str
    created_at: datetime

    @staticmethod
    def resolve_project(obj: Folder) -> int:
        return obj.project_id

    @staticmethod
    def resolve_project_name(obj: Folder) -> str:
        return obj.project.name


class FolderListOut(Schema):
    items: list[FolderOut]
    count: int


class FolderIn(Schema):
    name: StrictStr
    project: Id


class TimeEntryOut(Schema):
    id: int
    item: int
    item_reference: str
    item_title: str
    agent: int
    agent_email: str
    minutes: int
    date: str
    note: str
    billable: bool
    created_at: datetime

    @staticmethod
    def resolve_item(obj: TimeEntry) -> int:
        return obj.item_id

    @staticmethod
    def resolve_item_reference(obj: TimeEntry) -> str:
        return obj.item.reference

    @staticmethod
    def resolve_item_title(obj: TimeEntry) -> str:
        return obj.item.title

    @staticmethod
    def resolve_agent(obj: TimeEntry) -> int:
        return obj.agent_id

    @staticmethod
    def resolve_agent_email(obj: TimeEntry) -> str:
        return obj.agent.email

    @staticmethod
    def resolve_date(obj: TimeEntry) -> str:
        return obj.date.isoformat()


class TimeEntryListOut(Schema):
    items: list[TimeEntryOut]
    count: int


class TimeEntryIn(Schema):
    item: Id
    minutes: Int64
    date: StrictStr | None = Field(None, description="YYYY-MM-DD; today by default.")
    note: StrictStr = ""
    billable: StrictBool = True
    agent: Id | None = Field(None, description="Another agent's id; the token's agent by default.")


class TimeEntryPatch(Schema):
    minutes: Int64 | None = None
    date: StrictStr | None = Field(None, description="YYYY-MM-DD; null for today.")
    note: StrictStr | None = None
    billable: StrictBool | None = None

    def to_changes(self) -> inputs.TimeChanges:
        return inputs.TimeChanges(minutes=_sent_not_null(self, "minutes", self.minutes),
                                  date=_sent(self, "date", self.date),
                                  note=_sent(self, "note", self.note or ""),
                                  billable=_sent_not_null(self, "billable", self.billable))


class TimeTotalOut(Schema):
    key: int | None
    label: str
    minutes: int
    billable_minutes: int


class TimeTotalsOut(Schema):
    by: str
    items: list[TimeTotalOut]
    count: int
    minutes: int
    billable_minutes: int


class StatusOut(Schema):
    id: int
    kind: str
    key: str
    label: str
    category: str
    position: int


class StatusListOut(Schema):
    items: list[StatusOut]
    count: int


class StatusIn(Schema):
    kind: StrictStr
    key: StrictStr
    label: StrictStr
    category: StrictStr


class StatusPatch(Schema):
    label: StrictStr | None = None
    category: StrictStr | None = None
    position: Int64 | None = None

    def to_changes(self) -> inputs.StatusChanges:
        return inputs.StatusChanges(label=_sent(self, "label", self.label or ""),
                                    category=_sent(self, "category", self.category or ""),
                                    position=_sent_not_null(self, "position", self.position))


# -- mail ----------------------------------------------------------------------------------------


class ImapOut(Schema):
    """A mailbox's IMAP account; the password never leaves, only whether one is set."""

    host: str
    port: int | None
    security: str
    username: str
    folder: str
    poll_seconds: int
    password_set: bool
    last_poll_at: datetime | None
    last_poll_ok: bool | None
    last_poll_message: str

    @staticmethod
    def resolve_host(obj: Mailbox) -> str:
        return obj.imap_host

    @staticmethod
    def resolve_port(obj: Mailbox) -> int | None:
        return obj.imap_port

    @staticmethod
    def resolve_security(obj: Mailbox) -> str:
        return obj.imap_security

    @staticmethod
    def resolve_username(obj: Mailbox) -> str:
        return obj.imap_username

    @staticmethod
    def resolve_folder(obj: Mailbox) -> str:
        return obj.imap_folder

    @staticmethod
    def resolve_password_set(obj: Mailbox) -> bool:
        return bool(obj.imap_password)


class MailboxOut(Schema):
    id: int
    address: str
    name: str
    imap: ImapOut | None
    created_at: datetime

    @staticmethod
    def resolve_imap(obj: Mailbox) -> Mailbox | None:
        return obj if obj.is_imap else None


class MailboxListOut(Schema):
    items: list[MailboxOut]
    count: int


class ImapIn(Schema):
    """Fields left out keep what the mailbox has (or the defaults, for a new account)."""

    model_config = ConfigDict(extra="forbid")
    host: StrictStr | None = None
    port: Int64 | None = Field(None, description="993 with SSL, 143 otherwise, by default.")
    security: StrictStr | None = Field(None, description="ssl (the default), starttls or none.")
    username: StrictStr | None = None
    password: StrictStr | None = Field(None, description="Write-only; left out or null keeps the stored one.")
    folder: StrictStr | None = None
    poll_seconds: Int64 | None = None

    def to_input(self) -> ImapSettings:
        return ImapSettings(
            host=_sent(self, "host", self.host or ""), port=_sent(self, "port", self.port),
            security=_sent(self, "security", self.security or ""),
            username=_sent(self, "username", self.username or ""),
            password=UNSET if self.password is None else self.password,
            folder=_sent(self, "folder", self.folder or ""),
            poll_seconds=_sent_not_null(self, "poll_seconds", self.poll_seconds, field="imap.poll_seconds"))


class MailboxIn(Schema):
    address: StrictStr
    name: StrictStr = ""
    imap: ImapIn | None = None


class MailboxPatch(Schema):
    address: StrictStr | None = None
    name: StrictStr | None = None
    imap: ImapIn | None = Field(None, description="null stops polling and forgets the account.")

    def to_changes(self) -> MailboxChanges:
        imap = None if self.imap is None else self.imap.to_input()
        return MailboxChanges(address=_sent(self, "address", self.address or ""),
                              name=_sent(self, "name", self.name or ""), imap=_sent(self, "imap", imap))


class ConnectionTestOut(Schema):
    ok: bool
    message: str


class NeverFollowOut(Schema):
    id: int
    address: str
    mailbox: int | None
    created_at: datetime

    @staticmethod
    def resolve_mailbox(obj: NeverFollow) -> int | None:
        return obj.mailbox_id


class NeverFollowListOut(Schema):
    items: list[NeverFollowOut]
    count: int


class AddressIn(Schema):
    address: StrictStr


class InboundOut(Schema):
    id: int
    status: str
    reason: str
    message_id: str
    from_: str = Field(alias="from")
    subject: str
    mailbox: int | None
    mailbox_address: str | None
    transport: str
    size: int
    item: int | None
    attempts: int
    received_at: datetime
    processed_at: datetime | None

    @staticmethod
    def resolve_message_id(obj: InboundEmail) -> str:
        return obj.rfc_message_id

    @staticmethod
    def resolve_from(obj: InboundEmail) -> str:
        return obj.from_address

    @staticmethod
    def resolve_mailbox(obj: InboundEmail) -> int | None:
        return obj.mailbox_id

    @staticmethod
    def resolve_mailbox_address(obj: InboundEmail) -> str | None:
        return obj.mailbox.address if obj.mailbox_id and obj.mailbox else None

    @staticmethod
    def resolve_item(obj: InboundEmail) -> int | None:
        return obj.item_id


class InboundListOut(Schema):
    items: list[InboundOut]
    count: int


class InboundAccepted(Schema):
    id: int
    status: str


# -- automations ------------------------------------------------------------------------------------

TriggerName = Literal["created", "updated", "changed", "elapsed", "customer_replied", "agent_replied",
                      "sla_breached", "sla_at_risk"]
OpName = Literal["is", "is_not", "contains", "not_contains", "in", "gt", "lt", "is_empty", "changed"]
ActionName = Literal["assign", "set_status", "set_priority", "set_field", "move_to_project", "customer_project",
                     "add_follower", "apply_sla", "send_survey", "reply", "note", "add_folder"]


class TriggerIn(Schema):
    model_config = ConfigDict(extra="forbid")
    type: TriggerName
    field: StrictStr | None = Field(None, max_length=100, description="changed: the property (any when left out).")
    from_: Json = Field(None, alias="from", description="changed: the old value (any when left out).")
    to: Json = Field(None, description="changed: the new value (any when left out).")
    since: Literal["created", "last_customer_message", "last_agent_reply", "status_changed"] | None = None
    minutes: Int64 | None = Field(None, description="elapsed: how long after `since`.")

    def to_input(self) -> Trigger:
        return Trigger(type=TriggerType(self.type), field=self.field or "", from_value=self.from_, to_value=self.to,
                       since=Since(self.since) if self.since else None, minutes=self.minutes or 0)


class ConditionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    field: StrictStr = Field(max_length=100)
    op: OpName
    value: Json = None

    def to_input(self) -> Condition:
        return Condition(field=self.field, op=Op(self.op), value=self.value)


class ConditionsIn(Schema):
    model_config = ConfigDict(extra="forbid")
    all: list[ConditionIn] = Field([], max_length=50)
    any: list[ConditionIn] = Field([], max_length=50)


class ActionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    type: ActionName
    agent: Id | None = None
    team: Id | None = None
    mode: Literal["team", "round_robin", "least_busy"] | None = Field(
        None, description="assign a team: the team (default), or one of its agents in turn or by workload.")
    customer: Id | None = None
    value: Json = None
    field: StrictStr | None = Field(None, max_length=100)
    project: Id | None = None
    folder: Id | None = None
    body: StrictStr | None = Field(None, max_length=20_000)
    sla: Id | None = Field(None, description="apply_sla: the policy's id.")
    name: StrictStr | None = Field(None, max_length=200, description="add_folder (projects): the folder's name.")

    def to_input(self) -> Action:
        return Action(type=ActionType(self.type), agent=self.agent, team=self.team,
                      mode=AssignMode(self.mode or "team"), customer=self.customer, value=self.value,
                      field=self.field or "", project=self.project, folder=self.folder, body=self.body or "",
                      sla=self.sla, name=self.name or "")


class AutomationIn(Schema):
    name: StrictStr = Field(max_length=2000)
    item_kind: Literal["ticket", "task", "project", "timesheet"]
    trigger: TriggerIn
    conditions: ConditionsIn = Field(default_factory=lambda: ConditionsIn(all=[], any=[]))
    actions: list[ActionIn] = Field(max_length=20)
    enabled: StrictBool = True

    def to_rule(self) -> Rule:
        return Rule(name=self.name, item_kind=ItemKind(self.item_kind), trigger=self.trigger.to_input(),
                    all=tuple(c.to_input() for c in self.conditions.all),
                    any=tuple(c.to_input() for c in self.conditions.any),
                    actions=tuple(a.to_input() for a in self.actions), enabled=self.enabled)


class AutomationPatch(Schema):
    name: StrictStr | None = Field(None, max_length=2000)
    trigger: TriggerIn | None = None
    conditions: ConditionsIn | None = None
    actions: list[ActionIn] | None = Field(None, max_length=20)
    enabled: StrictBool | None = None
    position: Int64 | None = None

    def to_changes(self) -> AutomationChanges:
        sent = self.model_fields_set
        conditions = self.conditions or ConditionsIn(all=[], any=[])
        return AutomationChanges(
            name=_sent(self, "name", self.name or ""),
            trigger=_sent_not_null(self, "trigger", self.trigger.to_input() if self.trigger else None),
            all=tuple(c.to_input() for c in conditions.all) if "conditions" in sent else UNSET,
            any=tuple(c.to_input() for c in conditions.any) if "conditions" in sent else UNSET,
            actions=_sent(self, "actions", tuple(a.to_input() for a in self.actions or [])),
            enabled=_sent_not_null(self, "enabled", self.enabled),
            position=_sent_not_null(self, "position", self.position))


class AutomationOut(Schema):
    id: int
    name: str
    item_kind: str
    trigger: dict[str, Json]
    conditions: dict[str, Json]
    actions: list[dict[str, Json]]
    enabled: bool
    position: int
    organization: int | None = Field(description="The organization its conditions pin it to, if any.")
    routing: bool = Field(description="The organization's routing section.")
    failures: int = Field(description="Failures in a row at run time; switched off at 3.")
    last_error: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_organization(obj: Automation) -> int | None:
        return obj.organization_id


class AutomationListOut(Schema):
    items: list[AutomationOut]
    count: int


class RoutingIn(Schema):
    actions: list[ActionIn] = Field(max_length=20)


class RoutingOut(Schema):
    organization: int
    automation: int | None
    enabled: bool
    actions: list[dict[str, Json]]


class AutomationTestIn(Schema):
    rule: AutomationIn
    item: Id = Field(description="The ticket or task to test against; for a project rule the project, for a "
                                 "timesheet rule the time entry.")


class CheckOut(Schema):
    text: str
    met: bool


class AutomationTestOut(Schema):
    triggered: bool
    matched: bool
    checks: list[CheckOut]
    actions: list[dict[str, Json]]


# -- SLA ------------------------------------------------------------------------------------------


class SlaTargetIn(Schema):
    model_config = ConfigDict(extra="forbid")
    priority: StrictStr
    first_response_minutes: Int64 | None = None
    resolution_minutes: Int64 | None = None

    def to_input(self) -> TargetInput:
        return TargetInput(self.priority, self.first_response_minutes, self.resolution_minutes)


class BusinessHoursIn(Schema):
    model_config = ConfigDict(extra="forbid")
    days: list[Int64] = Field([0, 1, 2, 3, 4], max_length=7, description="0 = Monday … 6 = Sunday")
    start: StrictStr = Field("09:00", max_length=5)
    end: StrictStr = Field("17:00", max_length=5)
    time_zone: StrictStr = Field("UTC", max_length=64)

    def to_input(self) -> HoursInput:
        return HoursInput(days=tuple(self.days), start=self.start, end=self.end, time_zone=self.time_zone)


class SlaPolicyIn(Schema):
    name: StrictStr = Field(max_length=2000)
    targets: list[SlaTargetIn] = Field(max_length=10)
    business_hours: BusinessHoursIn | None = Field(None, description="null: every minute counts (24/7).")
    holidays: list[StrictStr] = Field([], max_length=400, description="Dates (YYYY-MM-DD) that do not count.")

    def to_input(self) -> PolicyInput:
        return PolicyInput(name=self.name, targets=[t.to_input() for t in self.targets],
                           business_hours=self.business_hours.to_input() if self.business_hours else None,
                           holidays=tuple(self.holidays))


class SlaPolicyPatch(Schema):
    name: StrictStr | None = Field(None, max_length=2000)
    targets: list[SlaTargetIn] | None = Field(None, max_length=10)
    business_hours: BusinessHoursIn | None = None
    holidays: list[StrictStr] | None = Field(None, max_length=400)

    def to_changes(self) -> PolicyChanges:
        hours = self.business_hours.to_input() if self.business_hours else None
        return PolicyChanges(name=_sent(self, "name", self.name or ""),
                             targets=_sent(self, "targets", [t.to_input() for t in self.targets or []]),
                             business_hours=_sent(self, "business_hours", hours),
                             holidays=_sent(self, "holidays", tuple(self.holidays or ())))


class SlaTargetOut(Schema):
    priority: str
    first_response_minutes: int | None
    resolution_minutes: int | None

    @staticmethod
    def resolve_priority(obj: SlaTarget) -> str:
        return Priority(obj.priority).key


class BusinessHoursOut(Schema):
    days: list[int]
    start: str
    end: str
    time_zone: str

    @staticmethod
    def resolve_start(obj: SlaPolicy) -> str:
        return f"{obj.start:%H:%M}"

    @staticmethod
    def resolve_end(obj: SlaPolicy) -> str:
        return f"{obj.end:%H:%M}"


class SlaPolicyOut(Schema):
    id: int
    name: str
    targets: list[SlaTargetOut]
    business_hours: BusinessHoursOut | None
    holidays: list[str]
    created_at: datetime

    @staticmethod
    def resolve_targets(obj: SlaPolicy) -> list[SlaTarget]:
        return list(obj.targets.all())

    @staticmethod
    def resolve_business_hours(obj: SlaPolicy) -> SlaPolicy | None:
        return None if obj.always else obj


class SlaPolicyListOut(Schema):
    items: list[SlaPolicyOut]
    count: int


# -- surveys --------------------------------------------------------------------------------------


class SurveyOut(Schema):
    id: int
    item: int
    item_reference: str
    customer: int | None
    customer_email: str | None
    organization: int | None
    agent: int | None
    rating: str | None = Field(description="good, okay or bad; null until answered.")
    comment: str
    sent_at: datetime
    answered_at: datetime | None
    expires_at: datetime

    @staticmethod
    def resolve_item(obj: SurveyRequest) -> int:
        return obj.item_id

    @staticmethod
    def resolve_item_reference(obj: SurveyRequest) -> str:
        return obj.item.reference

    @staticmethod
    def resolve_customer(obj: SurveyRequest) -> int | None:
        return obj.customer_id

    @staticmethod
    def resolve_customer_email(obj: SurveyRequest) -> str | None:
        return obj.customer.email if obj.customer else None

    @staticmethod
    def resolve_organization(obj: SurveyRequest) -> int | None:
        return obj.organization_id

    @staticmethod
    def resolve_agent(obj: SurveyRequest) -> int | None:
        return obj.agent_id

    @staticmethod
    def resolve_rating(obj: SurveyRequest) -> str | None:
        return obj.rating or None


class SurveySummaryOut(Schema):
    sent: int
    answered: int
    good: int
    okay: int
    bad: int
    score: float | None = Field(description="Good answers among the answers, in percent.")


class SurveyMonthOut(Schema):
    month: str
    sent: int
    good: int
    okay: int
    bad: int
    score: float | None


class SurveyListOut(Schema):
    items: list[SurveyOut]
    count: int
    summary: SurveySummaryOut
    months: list[SurveyMonthOut]
