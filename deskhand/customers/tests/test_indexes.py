"""The customer lists' indexes (bench/README.md, customers.py finding 3)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskhand.customers.queries import customer_count_without_organization


def _indexes() -> dict[str, dict[str, Any]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "customers_customer")
    return {name: info for name, info in constraints.items() if info["index"] and not info["primary_key"]}


def test_lookups_by_organization_use_one_index_that_also_holds_merged_into(db: Any) -> None:
    columns = [info["columns"] for info in _indexes().values()]
    assert ["organization_id", "merged_into_id"] in columns
    assert ["organization_id"] not in columns  # the foreign key's own index, which it replaces
    assert ["email_key"] in columns  # customer_no_org_email_idx, partial (and the unique key)


def test_no_organization_is_counted_from_an_index(db: Any) -> None:
    with CaptureQueriesContext(connection) as captured:
        assert customer_count_without_organization() == 0
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + captured[0]["sql"])
            plan = " ".join(row[3] for row in cursor.fetchall())
        assert "COVERING INDEX" in plan, plan
