"""Articles and categories for tests, made through the services."""

from __future__ import annotations

from typing import Any

from deskhand.core.actors import SYSTEM
from deskhand.kb.inputs import ArticleInput, CategoryInput
from deskhand.kb.models import Article, Category
from deskhand.kb.services import create_article, create_category


def make_category(name: str = "Accounts", **values: Any) -> Category:
    return create_category(CategoryInput(name=name, **values), actor=SYSTEM)


def make_article(title: str = "Reset your password", body: str = "Open **Settings** and choose *Reset*.",
                 **values: Any) -> Article:
    values.setdefault("status", "published")
    return create_article(ArticleInput(title=title, body=body, **values), actor=SYSTEM)
