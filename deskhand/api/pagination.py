from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db.models import QuerySet
from ninja import Schema
from pydantic import Field

T = TypeVar("T")
MAX_PAGE_SIZE = 500


class ListParams(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    search: str = Field("", max_length=200)


def paginate(queryset: QuerySet[Any], params: ListParams, serialize: Callable[[Any], T]) -> dict[str, Any]:
    """`{"items": [...], "count": N}` for one page; a page past the end is empty, not an error."""
    count = queryset.count()
    start = (params.page - 1) * params.page_size
    rows: Iterable[Any] = queryset[start:start + params.page_size] if start < count else []
    return {"items": [serialize(row) for row in rows], "count": count}
