"""CSV import and export of customers: each row goes through the customer services."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from django.db import transaction

from deskhand.core.actors import Actor
from deskhand.core.errors import DomainError, Invalid
from deskhand.customers import services
from deskhand.customers.models import Customer, Source
from deskhand.customers.queries import organization_list
from deskhand.fields.queries import custom_field_list

BUILT_IN_COLUMNS = ["email", "name", "phone", "organization", "customer_type", "language", "notes"]
MAX_FILE_BYTES = 50 * 1024 * 1024
PROGRESS_EVERY = 500


@dataclass
class RowReport:
    line: int
    email: str
    result: str  # created, matched or error
    customer: int | None = None
    organization: str | None = None
    reason: str | None = None


@dataclass
class ImportReport:
    dry_run: bool
    rows: list[RowReport] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(1 for row in self.rows if row.result == result)

    @property
    def failed(self) -> bool:
        return self.count("error") > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "created": self.count("created"),
            "matched": self.count("matched"),
            "errors": self.count("error"),
            "rows": [asdict(row) for row in self.rows],
        }


class _DryRunRollback(Exception):
    pass


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_FILE_BYTES:
        raise Invalid("file_too_large", f"A CSV file has at most {MAX_FILE_BYTES // 1024 // 1024} MB.", field="file")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _read_header(reader: Any, field_keys: set[str]) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid("empty_file", "The file is empty; it needs a header row with an email column.",
                      field="file") from None
    except csv.Error as exc:
        raise Invalid("bad_csv", f"Not a readable CSV file: {exc}.", field="file") from None
    columns = [column.strip().lower().replace(" ", "_") for column in header]
    if "email" not in columns:
        raise Invalid("missing_email_column", "The header row needs an email column.", field="file")
    unknown = [c for c in columns if c and c not in BUILT_IN_COLUMNS and c not in field_keys]
    if unknown:
        raise Invalid("unknown_columns", f"Unknown columns: {', '.join(unknown)}. Use {', '.join(BUILT_IN_COLUMNS)} "
                      "or the key of a customer custom field.", field="file")
    duplicates = {c for c in columns if c and columns.count(c) > 1}
    if duplicates:
        raise Invalid("duplicate_columns", f"Columns listed twice: {', '.join(sorted(duplicates))}.", field="file")
    return columns


def _import_row(values: dict[str, str], field_keys: set[str], *, actor: Actor) -> RowReport:
    custom = {key: values[key] for key in field_keys if values.get(key, "").strip()}
    organization: Any = services.AUTO
    if values.get("organization", "").strip():
        organization = services.get_or_create_organization_by_name(values["organization"], source=Source.CSV,
                                                                  actor=actor)
    customer, created = services.find_or_create_customer(
        values.get("email", ""), name=values.get("name", ""), phone=values.get("phone", ""),
        language=values.get("language", ""), notes=values.get("notes", ""),
        customer_type=values.get("customer_type") or None, organization=organization, custom_fields=custom,
        source=Source.CSV, actor=actor,
    )
    if not created:
        # A known address: the row's non-empty cells update the customer.
        changes: dict[str, Any] = {
            key: values[key].strip() for key in ("name", "phone", "language", "notes", "customer_type")
            if values.get(key, "").strip()
        }
        if custom:
            changes["custom_fields"] = custom
        if organization is not services.AUTO and organization.pk != customer.organization_id:
            changes["organization"] = organization
        if changes:
            customer = services.update_customer(customer, changes=changes, actor=actor)
    return RowReport(line=0, email=customer.email, result="created" if created else "matched",
                     customer=customer.pk, organization=customer.organization.name if customer.organization else None)


def import_customers(
    data: bytes | str,
    *,
    dry_run: bool,
    actor: Actor,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import every row; each row is created, matched (and updated) or an error with its reason.
    A dry run reports exactly what would happen and writes nothing."""
    text = _decode(data)
    field_keys = set(custom_field_list(applies_to="customer").values_list("key", flat=True))
    total_lines = text.count("\n")
    reader = csv.reader(io.StringIO(text, newline=""))
    columns = _read_header(reader, field_keys)
    report = ImportReport(dry_run=dry_run)

    def run() -> None:
        for values_list in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in values_list):
                continue
            values = dict(zip(columns, values_list, strict=False))
            try:
                with transaction.atomic():
                    row = _import_row(values, field_keys, actor=actor)
                row.line = line
            except DomainError as exc:
                reason = f"{exc.field}: {exc.message}" if exc.field else exc.message
                row = RowReport(line=line, email=values.get("email", "").strip(), result="error", reason=reason)
            report.rows.append(row)
            if progress and len(report.rows) % PROGRESS_EVERY == 0:
                progress(len(report.rows), total_lines)

    try:
        if dry_run:
            # Everything happens inside one transaction that is rolled back, so the report sees
            # what earlier rows would create (an organization, a customer) and nothing stays.
            with transaction.atomic():
                run()
                raise _DryRunRollback
        else:
            run()
    except _DryRunRollback:
        pass
    except csv.Error as exc:
        raise Invalid("bad_csv", f"Not a readable CSV file: {exc}.", field="file") from None
    if progress:
        progress(len(report.rows), total_lines)
    return report


def export_customers(out: IO[str]) -> int:
    """Write every live customer as CSV, in the columns the import reads; returns the row count."""
    keys = list(custom_field_list(applies_to="customer").values_list("key", flat=True))
    writer = csv.writer(out)
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
        raise Invalid("empty_file", "The file is empty or not CSV; it needs a header row.", field="file") from None
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
        raise Invalid("email_not_mapped", "Choose which column holds the email address.", field="mapping")
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
        raise Invalid("bad_csv", f"Not a readable CSV file: {exc}.", field="file") from None
    return out.getvalue()


def export_organizations(out: IO[str]) -> int:
    """Every organization as CSV: name, domains (space-separated), customer count, notes, custom fields."""
    keys = list(custom_field_list(applies_to="organization").values_list("key", flat=True))
    writer = csv.writer(out)
    writer.writerow(["name", "domains", "customer_count", "notes", *keys])
    count = 0
    for organization in organization_list().iterator(chunk_size=2000):
        writer.writerow([organization.name, " ".join(d.domain for d in organization.domains.all()),
                         organization.customer_count, organization.notes,
                         *[_cell(organization.custom_fields.get(key)) for key in keys]])
        count += 1
    return count
