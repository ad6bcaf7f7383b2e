from __future__ import annotations

from typing import Any

import pytest

from deskhand.core.actors import SYSTEM
from deskhand.core.errors import Invalid
from deskhand.customers.models import Customer, Organization, Source
from deskhand.customers.services import create_customer, create_customer_type
from deskhand.fields.services import create_custom_field
from deskhand.imports.customers import export_customers, import_customers

CSV = """email,name,phone,organization,customer_type,seats
ana@acme.com,Ana,+1 555 0100,,,3
bob@acme.com,Bob,,,,
cy@gmail.com,Cy,,Globex,VIP,
not-an-address,Dee,,,,
eve@acme.com,Eve,,,Unknown type,
ana@ACME.com,Ana Updated,,,,
fay@initech.com,,,,,many
"""


@pytest.fixture
def setup(db: Any) -> None:
    create_customer_type("VIP", actor=SYSTEM)
    create_custom_field(applies_to="customer", label="Seats", type="number", actor=SYSTEM)


def test_each_row_is_created_matched_or_an_error_with_its_reason(setup: None) -> None:
    report = import_customers(CSV.encode(), dry_run=False, actor=SYSTEM)
    results = [(row.line, row.result) for row in report.rows]
    assert results == [(2, "created"), (3, "created"), (4, "created"), (5, "error"), (6, "error"), (7, "matched"),
                       (8, "error")]
    reasons = {row.line: row.reason for row in report.rows if row.reason}
    assert reasons[5].startswith("email:") and reasons[6].startswith("customer_type:")
    assert reasons[8].startswith("custom_fields.seats:")
    ana = Customer.objects.get(email_key="ana@acme.com")
    assert ana.name == "Ana Updated" and ana.custom_fields == {"seats": 3} and ana.source == "csv"
    cy = Customer.objects.get(email_key="cy@gmail.com")
    assert cy.organization.name == "Globex" and cy.placed_manually and cy.customer_type.name == "VIP"
    assert ana.organization.name == "acme.com"
    assert not Customer.objects.filter(email_key__in=["eve@acme.com", "fay@initech.com"]).exists()
    assert report.failed


def test_a_dry_run_reports_the_same_and_writes_nothing(setup: None) -> None:
    dry = import_customers(CSV, dry_run=True, actor=SYSTEM)
    assert [row.result for row in dry.rows] == ["created", "created", "created", "error", "error", "matched", "error"]
    assert not Customer.objects.exists() and not Organization.objects.exists()


@pytest.mark.parametrize(
    ("data", "code"),
    [("", "empty_file"), ("name\nAna\n", "missing_email_column"), ("email,shoe_size\na@b.com,9\n", "unknown_columns"),
     ("email,email\na@b.com,a@b.com\n", "duplicate_columns")],
)
def test_a_bad_file_is_refused_before_any_row(db: Any, data: str, code: str) -> None:
    with pytest.raises(Invalid) as error:
        import_customers(data, dry_run=False, actor=SYSTEM)
    assert error.value.code == code and error.value.field == "file"


def test_legacy_encodings_and_a_byte_order_mark_are_read(db: Any) -> None:
    import_customers("\ufeffemail,name\nzoe@acme.com,Zoë\n".encode(), dry_run=False, actor=SYSTEM)
    import_customers("email,name\nrene@acme.com,René\n".encode("cp1252"), dry_run=False, actor=SYSTEM)
    assert set(Customer.objects.values_list("name", flat=True)) == {"Zoë", "René"}


def test_progress_is_reported_on_long_files(db: Any) -> None:
    rows = "\n".join(f"p{index}@acme.com" for index in range(1200))
    seen: list[int] = []
    import_customers(f"email\n{rows}\n", dry_run=False, actor=SYSTEM, progress=lambda done, total: seen.append(done))
    assert seen == [500, 1000, 1200]


def test_export_writes_the_columns_the_import_reads(setup: None) -> None:
    create_customer("ana@acme.com", name="Ana", customer_type="VIP", custom_fields={"seats": 4},
                    source=Source.API, actor=SYSTEM)
    import io

    out = io.StringIO()
    assert export_customers(out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == "email,name,phone,organization,customer_type,language,notes,seats"
    assert lines[1] == "ana@acme.com,Ana,,acme.com,VIP,,,4"
    again = import_customers(out.getvalue(), dry_run=True, actor=SYSTEM)
    assert [row.result for row in again.rows] == ["matched"]
