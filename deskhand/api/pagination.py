from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db.models import QuerySet
from ninja import Schema
from pydantic import Field

T = TypeVar("T")
MAX_PAGE_SIZE = 500


class ListParams(Schema):
    # Defaults by keyword: mypy reads only `default=` as one, and would make code that builds
    # a ListParams pass every field.
    page: int = Field(default=1, ge=1, le=1_000_000)
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    search: str = Field(default="", max_length=200)


def paginate(queryset: QuerySet[Any], params: ListParams, *, count: int | None = None) -> dict[str, Any]:
    """`{"items": [...], "count": N}` for one page, the records as the route's response schema
    shows them; a page past the end is empty, not an error. `count`: the queryset's count when a
    query reads it more cheaply (work.queries.item_count)."""
    if count is None:
        count = queryset.count()
    start = (params.page - 1) * params.page_size
    rows: Iterable[Any] = queryset[start:start + params.page_size] if start < count else []
    return {"items": list(rows), "count": count}
