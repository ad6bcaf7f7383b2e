"""Typed inputs of the web form services."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from deskhand.core.inputs import UNSET, Maybe


@dataclass(frozen=True)
class FormField:
    key: str  # a custom field of the form's item kind
    required: bool = False


@dataclass(frozen=True)
class FormInput:
    slug: str
    title: str
    intro: str = ""
    fields: Sequence[FormField] = ()
    item_kind: str = "ticket"
    project: int | None = None
    enabled: bool = True
    require_sign_in: bool = False
    in_portal: bool = False


@dataclass(frozen=True)
class FormChanges:
    slug: Maybe[str] = UNSET
    title: Maybe[str] = UNSET
    intro: Maybe[str] = UNSET
    fields: Maybe[Sequence[FormField]] = UNSET
    item_kind: Maybe[str] = UNSET
    project: Maybe[int | None] = UNSET
    enabled: Maybe[bool] = UNSET
    require_sign_in: Maybe[bool] = UNSET
    in_portal: Maybe[bool] = UNSET


@dataclass(frozen=True)
class Submission:
    """What a visitor sent. `email`/`name` are ignored for a signed-in customer (`customer_id`).
    `trap` is the hidden field people never fill; `opened` the signed moment the page was served."""

    title: str
    description: str
    client: str
    opened: str
    email: str = ""
    name: str = ""
    customer_id: int | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    trap: str = ""
    language: str = ""  # the visitor's browser's, for a customer this creates
