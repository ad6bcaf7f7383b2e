"""The typed inputs of the work services. Each entry point (web forms, API schemas, CSV rows,
parsed mail) builds them from its own wire shape; the services resolve the ids and keys in them
to records and keep every business refusal (unknown status, folder outside its project, …)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from deskhand.agents.models import Agent, Team
from deskhand.core.inputs import UNSET, Maybe
from deskhand.customers.models import Customer, Organization
from deskhand.work.models import Portfolio


@dataclass(frozen=True)
class AssigneeRef:
    """An agent or a team to assign, by id."""

    kind: Literal["agent", "team"]
    id: int


@dataclass(frozen=True)
class FollowerRef:
    """A customer (by id, or by address: found or created by the customer rules) or an agent."""

    kind: Literal["customer", "agent"]
    id: int | None = None
    email: str = ""


Assignee = AssigneeRef | Agent | Team
Follower = FollowerRef | Customer | Agent


@dataclass(frozen=True)
class ItemDraft:
    """A new ticket or task as a person or a program asks for it: keys and ids, checked and
    resolved by `submit_ticket` / `create_task`. The requester is a customer (by id or record) or an
    address with an optional name for a customer not yet known; a ticket needs one of them."""

    title: str
    description: str = ""
    requester: int | Customer | None = None
    requester_email: str | None = None
    requester_name: str = ""
    status: str | None = None  # a status key; None: the first status of the workflow
    priority: str | None = None  # low, normal, high, urgent; None: normal
    assignees: Sequence[Assignee] = ()
    followers: Sequence[Follower] = ()
    project: int | None = None
    folder: int | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemChanges:
    """A change to one item; fields left UNSET stay as they are. `project=None` takes the item out
    of its project, `followers` is the whole new list (the requester always stays)."""

    title: Maybe[str] = UNSET
    description: Maybe[str] = UNSET
    status: Maybe[str] = UNSET
    priority: Maybe[str] = UNSET
    requester: Maybe[int | Customer | None] = UNSET
    requester_email: Maybe[str | None] = UNSET
    assignees: Maybe[Sequence[Assignee]] = UNSET
    followers: Maybe[Sequence[Follower]] = UNSET
    project: Maybe[int | None] = UNSET
    folder: Maybe[int | None] = UNSET
    custom_fields: Maybe[Mapping[str, Any]] = UNSET


@dataclass(frozen=True)
class BulkChanges:
    """What `bulk_change` may change on many items at once."""

    status: Maybe[str] = UNSET
    priority: Maybe[str] = UNSET
    assignees: Maybe[Sequence[Assignee]] = UNSET
    project: Maybe[int | None] = UNSET
    folder: Maybe[int | None] = UNSET

    def as_item_changes(self) -> ItemChanges:
        return ItemChanges(status=self.status, priority=self.priority, assignees=self.assignees,
                           project=self.project, folder=self.folder)


@dataclass(frozen=True)
class ProjectChanges:
    """A project renamed, moved into (or out of, None) a portfolio, given to an organization."""

    name: Maybe[str] = UNSET
    portfolio: Maybe[int | Portfolio | None] = UNSET
    organization: Maybe[int | Organization | None] = UNSET


@dataclass(frozen=True)
class StatusChanges:
    label: Maybe[str] = UNSET
    category: Maybe[str] = UNSET
    position: Maybe[int] = UNSET


@dataclass(frozen=True)
class TimeChanges:
    """A time entry corrected; `date` is YYYY-MM-DD text or a date."""

    minutes: Maybe[int] = UNSET
    date: Maybe[str | datetime.date | None] = UNSET  # None: today
    note: Maybe[str] = UNSET
    billable: Maybe[bool] = UNSET


@dataclass(frozen=True)
class ViewDraft:
    """A list's filters and sort to keep under a name. `query` holds ItemFilters' field names and
    `sort`, as the list's query string has them; `assignee` may say `me` (whoever looks)."""

    kind: str
    name: str
    query: Mapping[str, str]
    shared: bool = False


@dataclass(frozen=True)
class ViewChanges:
    name: Maybe[str] = UNSET
    shared: Maybe[bool] = UNSET
    query: Maybe[Mapping[str, str]] = UNSET
