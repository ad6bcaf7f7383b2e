"""CSV import and export of customers: each row goes through the customer services."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext

from deskhand.core.actors import Actor
from deskhand.core.csvsafe import SafeWriter, restore
from deskhand.core.errors import DomainError, Invalid
from deskhand.customers import services
from deskhand.customers.models import Customer
from deskhand.customers.queries import organization_list
from deskhand.fields.queries import custom_field_list

BUILT_IN_COLUMNS = ["email", "name", "phone", "organization", "customer_type", "language", "notes"]
MAX_FILE_BYTES = 50 * 1024 * 1024
PROGRESS_EVERY = 500
# Rows per transaction of an import: each holds the write lock for a moment only.
CHUNK_ROWS = 250


@dataclass
class RowReport:
    line: int
    email: str
    result: str  # created, matched or error
    customer: int | None = None
    organization: str | None = None
    reason: str | None = None
    # For a matched row, each field the row changes: {field: {"old": …, "new": …}} (applied only
    # when the import updates existing customers).
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ImportReport:
    dry_run: bool
    update_existing: bool = True
    rows: list[RowReport] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(1 for row in self.rows if row.result == result)

    @property
    def failed(self) -> bool:
        return self.count("error") > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "update_existing": self.update_existing,
            "created": self.count("created"),
            "matched": self.count("matched"),
            "changed": sum(1 for row in self.rows if row.result == "matched" and row.changes),
            "errors": self.count("error"),
            "rows": [asdict(row) for row in self.rows],
        }


NOT_TEXT = ("This is not a CSV text file: it holds binary data (a spreadsheet, an archive or an image?). "
            "Save the sheet as CSV (UTF-8) and upload that.")
# Control characters other than tab, line feed and carriage return never occur in a CSV text.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _decode(data: bytes | str) -> str:
    """The text of an uploaded file: UTF-8 (with or without a byte order mark), else Windows-1252
    when that gives text; anything holding binary data is refused with one message."""
    if isinstance(data, str):
        text = data
    else:
        if len(data) > MAX_FILE_BYTES:
            raise Invalid("file_too_large", gettext("A CSV file has at most %(value)s MB.") % {"value": MAX_FILE_BYTES // 1024 // 1024},
                          field="file")
        if b"\x00" in data:
            raise Invalid("not_text", NOT_TEXT, field="file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")  # strict: bytes cp1252 leaves undefined are refused
            except UnicodeDecodeError:
                raise Invalid("not_text", NOT_TEXT, field="file") from None
    if _BINARY.search(text):
        raise Invalid("not_text", NOT_TEXT, field="file")
    return text


def _read_header(reader: Any, field_keys: set[str]) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid("empty_file", gettext("The file is empty; it needs a header row with an email column."),
                      field="file") from None
    except csv.Error as exc:
        raise Invalid("bad_csv", gettext("Not a readable CSV file: %(exc)s.") % {"exc": exc}, field="file") from None
    columns = [restore(column).strip().lower().replace(" ", "_") for column in header]
    if "email" not in columns:
        raise Invalid("missing_email_column", gettext("The header row needs an email column."), field="file")
    unknown = [c for c in columns if c and c not in BUILT_IN_COLUMNS and c not in field_keys]
    if unknown:
        raise Invalid("unknown_columns", f"Unknown columns: {', '.join(unknown)}. Use {', '.join(BUILT_IN_COLUMNS)} "
                      "or the key of a customer custom field.", field="file")
    duplicates = {c for c in columns if c and columns.count(c) > 1}
    if duplicates:
        raise Invalid("duplicate_columns", f"Columns listed twice: {', '.join(sorted(duplicates))}.", field="file")
    return columns


def _row(values: dict[str, str], field_keys: set[str]) -> services.CustomerRow:
    """A CSV row as the customer services take it; the apostrophe our export puts before a
    formula-like cell is taken off again (`csvsafe.restore`)."""
    cells = {key: restore(value) for key, value in values.items()}
    return services.CustomerRow(
        email=cells.get("email", ""), name=cells.get("name", ""), phone=cells.get("phone", ""),
        language=cells.get("language", ""), notes=cells.get("notes", ""),
        customer_type=cells.get("customer_type", ""), organization=cells.get("organization", ""),
        custom_fields={key: cells[key] for key in field_keys if cells.get(key, "").strip()},
    )


def _report(plan: services.RowPlan, line: int) -> RowReport:
    customer = plan.customer
    return RowReport(line=line, email=customer.email, result="created" if plan.created else "matched",
                     customer=customer.pk, organization=plan.organization.name if plan.organization else None,
                     changes=plan.changes)


def _error(exc: DomainError, line: int, row: services.CustomerRow) -> RowReport:
    reason = f"{exc.field}: {exc.message}" if exc.field else exc.message
    return RowReport(line=line, email=row.email.strip(), result="error", reason=reason)


def _rows(reader: Any, columns: list[str], field_keys: set[str]) -> Iterator[tuple[int, services.CustomerRow]]:
    try:
        for values_list in reader:
            if not any(cell.strip() for cell in values_list):
                continue
            yield reader.line_num, _row(dict(zip(columns, values_list, strict=False)), field_keys)
    except csv.Error as exc:
        raise Invalid("bad_csv", gettext("Not a readable CSV file: %(exc)s.") % {"exc": exc}, field="file") from None


def _preview_chunk(chunk: list[tuple[int, services.CustomerRow]], planner: services.RowPlanner) -> list[RowReport]:
    """Reads only, outside any transaction: a preview never holds the database's write lock."""
    reports = []
    for line, row in chunk:
        try:
            plan = planner.plan(row)
        except DomainError as exc:
            reports.append(_error(exc, line, row))
            continue
        planner.remember(plan)
        reports.append(_report(plan, line))
    return reports


def _import_chunk(chunk: list[tuple[int, services.CustomerRow]], planner: services.RowPlanner, *,
                  update_existing: bool, actor: Actor) -> list[RowReport]:
    """One transaction per chunk (a short write lock, then others get their turn), one savepoint
    per row so that a failing row leaves nothing behind."""
    reports = []
    with transaction.atomic():
        for line, row in chunk:
            try:
                with transaction.atomic():
                    plan = services.write_row(planner.plan(row), update_existing=update_existing, actor=actor,
                                              people=planner.people)
            except DomainError as exc:
                planner.forget()
                reports.append(_error(exc, line, row))
                continue
            planner.remember(plan)
            reports.append(_report(plan, line))
    return reports


def import_customers(
    data: bytes | str,
    *,
    dry_run: bool,
    actor: Actor,
    update_existing: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import every row; each row is created, matched (updated when `update_existing`) or an
    error with its reason, and a matched row lists the fields it changes. A dry run plans with
    reads only and reports exactly what the import would do; the import commits every
    CHUNK_ROWS rows."""
    text = _decode(data)
    field_keys = set(custom_field_list(applies_to="customer").values_list("key", flat=True))
    total_lines = max(0, text.count("\n") - 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    columns = _read_header(reader, field_keys)
    report = ImportReport(dry_run=dry_run, update_existing=update_existing)
    planner = services.RowPlanner()
    rows = _rows(reader, columns, field_keys)
    reported = 0
    while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
        planner.prefetch([row for _line, row in chunk])
        if dry_run:
            report.rows += _preview_chunk(chunk, planner)
        else:
            report.rows += _import_chunk(chunk, planner, update_existing=update_existing, actor=actor)
        if progress and len(report.rows) - reported >= PROGRESS_EVERY:
            reported = len(report.rows)
            progress(reported, total_lines)
    if progress:
        progress(len(report.rows), total_lines)
    return report


def export_customers(out: IO[str]) -> int:
    """Write every live customer as CSV, in the columns the import reads; returns the row count."""
    keys = list(custom_field_list(applies_to="customer").values_list("key", flat=True))
    writer = SafeWriter(out)
    writer.writerow(BUILT_IN_COLUMNS + keys)
    customers = (
        Customer.objects.live().select_related("organization", "customer_type").order_by("email_key")
    )
    count = 0
    for customer in customers.iterator(chunk_size=2000):
        custom = [_cell(customer.custom_fields.get(key)) for key in keys]
        writer.writerow([
            customer.email, customer.name, customer.phone,
            customer.organization.name if customer.organization else "",
            customer.customer_type.name if customer.customer_type else "",
            customer.language, customer.notes, *custom,
        ])
        count += 1
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


def read_header(data: bytes | str) -> list[str]:
    """The header row of an uploaded file, for the column-mapping step."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise Invalid("empty_file", gettext("The file is empty or not CSV; it needs a header row."), field="file") from None
    return [column.strip() for column in header]


def guess_column(column: str, targets: list[str]) -> str:
    """The field a column is most likely meant for ("E-mail address" → email), or "" to ignore it."""
    name = column.strip().lower().replace(" ", "_").replace("-", "")
    aliases = {"e_mail": "email", "email_address": "email", "mail": "email", "full_name": "name",
               "company": "organization", "organisation": "organization", "type": "customer_type",
               "telephone": "phone", "phone_number": "phone"}
    name = aliases.get(name, name)
    return name if name in targets else ""


def remap(data: bytes | str, mapping: list[str]) -> str:
    """The file rewritten with the chosen field of each column as its header ("" drops a column)."""
    targets = [target for target in mapping if target]
    if "email" not in targets:
        raise Invalid("email_not_mapped", gettext("Choose which column holds the email address."), field="mapping")
    duplicates = sorted({target for target in targets if targets.count(target) > 1})
    if duplicates:
        raise Invalid("mapped_twice", f"Each field can take one column: {', '.join(duplicates)} is chosen twice.",
                      field="mapping")
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    out = io.StringIO()
    writer = csv.writer(out)
    try:
        for index, row in enumerate(reader):
            if index == 0:
                writer.writerow(targets)
                continue
            writer.writerow([cell for cell, target in zip(row, mapping, strict=False) if target])
    except csv.Error as exc:
        raise Invalid("bad_csv", gettext("Not a readable CSV file: %(exc)s.") % {"exc": exc}, field="file") from None
    return out.getvalue()


def export_organizations(out: IO[str]) -> int:
    """Every organization as CSV: name, domains (space-separated), customer count, notes, custom fields."""
    keys = list(custom_field_list(applies_to="organization").values_list("key", flat=True))
    writer = SafeWriter(out)
    writer.writerow(["name", "domains", "customer_count", "notes", *keys])
    count = 0
    for organization in organization_list().iterator(chunk_size=2000):
        writer.writerow([organization.name, " ".join(d.domain for d in organization.domains.all()),
                         organization.customer_count,  # type: ignore[attr-defined]  # annotated by the query
                         organization.notes,
                         *[_cell(organization.custom_fields.get(key)) for key in keys]])
        count += 1
    return count
