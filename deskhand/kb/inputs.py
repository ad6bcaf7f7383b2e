"""Typed inputs of the knowledge-base services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deskhand.core.inputs import UNSET, Maybe


@dataclass(frozen=True)
class CategoryInput:
    name: str
    slug: str = ""  # made from the name when empty
    description: str = ""
    position: int = 0


@dataclass(frozen=True)
class CategoryChanges:
    name: Maybe[str] = UNSET
    slug: Maybe[str] = UNSET
    description: Maybe[str] = UNSET
    position: Maybe[int] = UNSET


@dataclass(frozen=True)
class ArticleInput:
    title: str
    body: str = ""
    slug: str = ""  # made from the title when empty
    category: int | None = None
    visibility: str = "public"
    status: str = "draft"
    language: str = "en"
    translation_of: int | None = None  # another article this one translates
    tags: Sequence[str] = ()
    related: Sequence[int] = ()


@dataclass(frozen=True)
class ArticleChanges:
    title: Maybe[str] = UNSET
    body: Maybe[str] = UNSET
    slug: Maybe[str] = UNSET
    category: Maybe[int | None] = UNSET
    visibility: Maybe[str] = UNSET
    status: Maybe[str] = UNSET
    language: Maybe[str] = UNSET
    tags: Maybe[Sequence[str]] = UNSET
    related: Maybe[Sequence[int]] = UNSET


@dataclass(frozen=True)
class FeedbackInput:
    helpful: bool
    comment: str = ""
    client: str = ""  # who answered, as kb.services.client_key made it


@dataclass(frozen=True)
class DeflectionInput:
    source: str
    client: str = ""
