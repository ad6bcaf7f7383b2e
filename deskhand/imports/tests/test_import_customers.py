from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection

from deskhand.core.actors import SYSTEM
from deskhand.core.csvsafe import neutralise, restore
from deskhand.core.errors import Invalid
from deskhand.customers.inputs import OrganizationChanges
from deskhand.customers.models import Customer, Organization, Source
from deskhand.customers.services import (
    create_customer,
    create_customer_type,
    find_or_create_customer,
    update_organization,
)
from deskhand.fields.services import create_custom_field
from deskhand.imports.customers import export_customers, export_organizations, import_customers

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
    out = io.StringIO()
    assert export_customers(out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == "email,name,phone,organization,customer_type,language,notes,seats"
    assert lines[1] == "ana@acme.com,Ana,,acme.com,VIP,,,4"
    again = import_customers(out.getvalue(), dry_run=True, actor=SYSTEM)
    assert [row.result for row in again.rows] == ["matched"]



WRITES = ("INSERT", "UPDATE", "DELETE", "SAVEPOINT", "BEGIN", "CREATE", "REPLACE")


def test_a_long_preview_only_reads(db: Any) -> None:
    create_customer("known@acme.com", name="Known", source=Source.API, actor=SYSTEM)
    rows = "\n".join(f"p{index}@d{index % 500}.example,Person {index},,Org {index % 50}" for index in range(5_000))
    data = f"email,name,phone,organization\nknown@acme.com,Renamed,,\n{rows}\n".encode()
    statements: list[str] = []

    def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        report = import_customers(data, dry_run=True, actor=SYSTEM)
    # No statement that writes or opens a transaction: SQLite's write lock is never taken, so the
    # worker, the listener and other agents go on however long the file is (5 000 rows here, to
    # keep the suite fast; a 130 000-row file runs the same loop, in the worker).
    assert [sql for sql in statements if sql.lstrip().upper().startswith(WRITES)] == []
    assert (report.count("created"), report.count("matched"), report.count("error")) == (5_000, 1, 0)
    assert report.rows[0].changes == {"name": {"old": "Known", "new": "Renamed"}}
    assert report.rows[-1].organization == "Org 49"
    assert len(statements) < 5_000 // 20  # a few reads per chunk of rows, not one per row
    assert Customer.objects.count() == 1 and Organization.objects.count() == 1


@pytest.mark.parametrize("data", [
    bytes(range(256)) * 64,  # random-looking bytes
    b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + b"\x00" * 40 + b"[Content_Types].xml",  # an xlsx (a zip)
    b"email,name\nana@acme.com,An\x00a\n",  # a NUL byte
    b"\x89PNG\r\n\x1a\nemail\n",  # an image
])
def test_a_file_that_is_not_text_is_refused_with_one_message(db: Any, data: bytes) -> None:
    with pytest.raises(Invalid) as error:
        import_customers(data, dry_run=True, actor=SYSTEM)
    assert error.value.code == "not_text" and error.value.message.startswith("This is not a CSV text file")


def test_a_matched_row_lists_its_changes_and_updates_only_when_asked(setup: None) -> None:
    create_customer("ana@acme.com", name="Ana", phone="+1 555 0100", custom_fields={"seats": 2},
                    source=Source.API, actor=SYSTEM)
    data = "email,name,phone,organization,customer_type,language,notes,seats\n" \
           "ana@acme.com,Ana Lima,+1 555 0100,Globex,VIP,pt,Met at the fair,5\n"
    preview = import_customers(data, dry_run=True, actor=SYSTEM)
    assert preview.rows[0].result == "matched" and preview.rows[0].changes == {
        "name": {"old": "Ana", "new": "Ana Lima"},
        "organization": {"old": "acme.com", "new": "Globex"},
        "customer_type": {"old": None, "new": "VIP"},
        "language": {"old": "", "new": "pt"},
        "notes": {"old": "", "new": "Met at the fair"},
        "custom_fields.seats": {"old": 2, "new": 5},
    }  # the phone is the same: not a change
    left = import_customers(data, dry_run=False, update_existing=False, actor=SYSTEM)
    ana = Customer.objects.get(email_key="ana@acme.com")
    assert left.rows[0].changes and ana.name == "Ana" and ana.organization.name == "acme.com"
    assert left.as_dict()["update_existing"] is False and left.as_dict()["changed"] == 1
    updated = import_customers(data, dry_run=False, actor=SYSTEM)
    ana.refresh_from_db()
    assert updated.rows[0].changes == preview.rows[0].changes
    assert (ana.name, ana.organization.name, ana.customer_type.name, ana.custom_fields) == (
        "Ana Lima", "Globex", "VIP", {"seats": 5})
    again = import_customers(data, dry_run=True, actor=SYSTEM)
    assert again.rows[0].result == "matched" and again.rows[0].changes == {}


def test_a_preview_sees_what_earlier_rows_would_create(setup: None) -> None:
    data = "email,name,organization\nana@acme.com,Ana,Globex\nbob@acme.com,Bob,\nANA@acme.com,Ana L,globex\n"
    preview = import_customers(data, dry_run=True, actor=SYSTEM)
    assert [(row.result, row.organization) for row in preview.rows] == [
        ("created", "Globex"), ("created", "acme.com"), ("matched", "Globex")]
    assert preview.rows[2].changes == {"name": {"old": "Ana", "new": "Ana L"}}
    real = import_customers(data, dry_run=False, actor=SYSTEM)
    assert [(row.result, row.organization, row.changes) for row in real.rows] == [
        (row.result, row.organization, row.changes) for row in preview.rows]
    assert Organization.objects.count() == 2


FORMULA = '=HYPERLINK("http://x","y")'


def test_every_export_neutralises_formulas_and_the_import_takes_it_back(setup: None) -> None:
    # A stranger's mail display name becomes the customer's name.
    customer, _ = find_or_create_customer("eve@evil.example", name=FORMULA, source=Source.EMAIL, actor=SYSTEM)
    update_organization(customer.organization, changes=OrganizationChanges(name="@SUM(1+1)", notes="-2+3"), actor=SYSTEM)
    create_customer("neg@acme.com", name="-Ana", phone="+1 555", notes="=1+1", source=Source.API, actor=SYSTEM)
    out = io.StringIO()
    export_customers(out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    eve = next(row for row in rows if row[0] == "eve@evil.example")
    assert eve[1] == "'" + FORMULA and eve[3] == "'@SUM(1+1)"
    neg = next(row for row in rows if row[0] == "neg@acme.com")
    assert (neg[1], neg[2], neg[6]) == ("'-Ana", "'+1 555", "'=1+1")
    organizations = io.StringIO()
    export_organizations(organizations)
    assert "'@SUM(1+1),evil.example,1,'-2+3" in organizations.getvalue()
    before = list(Customer.objects.order_by("pk").values_list("name", "phone", "notes", "organization__name"))
    report = import_customers(out.getvalue(), dry_run=False, actor=SYSTEM)
    assert [row.changes for row in report.rows] == [{}, {}]  # the round trip changes nothing
    assert list(Customer.objects.order_by("pk").values_list("name", "phone", "notes", "organization__name")) == before


def test_neutralise_and_restore_are_inverse() -> None:
    for value in ["=1", "+1", "-1", "@a", "\tx", "\rx", "'=1", "''@x", "plain", "'quoted", "", "a=b"]:
        assert restore(neutralise(value)) == value
    assert neutralise("plain") == "plain" and neutralise(5) == 5 and neutralise("'=1") == "''=1"
