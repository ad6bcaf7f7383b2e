"""The typed inputs of the customer services; each entry point builds them from its own shape
(a form, an API body, a CSV row, a mail header) and the services clean and check the values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deskhand.core.inputs import UNSET, Maybe
from deskhand.customers.models import CustomerType, Organization

CustomerTypeRef = int | str | CustomerType | None
"""A customer type by id, by name (case-insensitive) or as the record; None or "" for none."""


@dataclass(frozen=True)
class CustomerChanges:
    """A change to one customer; fields left UNSET stay. `organization` is a manual move (None:
    "No organization"); a new `email` keeps the customer where they are filed."""

    email: Maybe[str] = UNSET
    name: Maybe[str] = UNSET
    phone: Maybe[str] = UNSET
    language: Maybe[str] = UNSET
    notes: Maybe[str] = UNSET
    customer_type: Maybe[CustomerTypeRef] = UNSET
    custom_fields: Maybe[Mapping[str, Any]] = UNSET
    organization: Maybe[Organization | None] = UNSET


@dataclass(frozen=True)
class OrganizationChanges:
    name: Maybe[str] = UNSET
    notes: Maybe[str] = UNSET
    custom_fields: Maybe[Mapping[str, Any]] = UNSET
    portal_visibility: Maybe[str | None] = UNSET  # None or "": the global setting


@dataclass(frozen=True)
class CustomerTypeChanges:
    name: Maybe[str] = UNSET
    color: Maybe[str] = UNSET
    visible: Maybe[bool] = UNSET
    position: Maybe[int] = UNSET
