"""Request and response shapes of REST API v1 (DESIGN §7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field, StrictInt

Json = Any


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


class CustomerListOut(Schema):
    items: list[CustomerOut]
    count: int


class CustomerIn(Schema):
    email: str = Field(max_length=2000)
    name: str = ""
    phone: str = ""
    language: str = ""
    notes: str = ""
    customer_type: StrictInt | str | None = None
    organization: StrictInt | None = Field(None, description="Omit to let the domain rule decide; null for No organization.")
    custom_fields: dict[str, Json] = {}


class CustomerPatch(Schema):
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    language: str | None = None
    notes: str | None = None
    customer_type: StrictInt | str | None = None
    organization: StrictInt | None = Field(None, description="A manual move; null for No organization.")
    custom_fields: dict[str, Json] | None = None


class MergeIn(Schema):
    into: StrictInt


class OrganizationOut(Schema):
    id: int
    name: str
    domains: list[str]
    customer_count: int
    notes: str
    source: str
    custom_fields: dict[str, Json]
    created_at: datetime
    updated_at: datetime


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


class DomainIn(Schema):
    domain: str = Field(max_length=2000)
    apply_to_existing: bool = False


class DomainOut(Schema):
    domain: str
    organization: int
    moved_customers: int


class EventOut(Schema):
    id: int
    actor: str
    actor_kind: str
    action: str
    detail: dict[str, Json]
    created_at: datetime


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
    position: StrictInt | None = None


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
    position: StrictInt | None = None


class AgentOut(Schema):
    id: int
    email: str
    name: str
    is_admin: bool
    is_active: bool
    teams: list[int]
    created_at: datetime


class AgentIn(Schema):
    email: str = Field(max_length=2000)
    name: str = ""
    password: str | None = None
    is_admin: bool = False


class TeamOut(Schema):
    id: int
    name: str
    members: list[int]


class TeamIn(Schema):
    name: str
    members: list[StrictInt] = []


class ImportRowOut(Schema):
    line: int
    email: str
    result: str
    customer: int | None
    organization: str | None
    reason: str | None


class ImportOut(Schema):
    dry_run: bool
    created: int
    matched: int
    errors: int
    rows: list[ImportRowOut]
