from __future__ import annotations

import sys
from argparse import BooleanOptionalAction
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskhand.customers.models import Source
from deskhand.customers.services import create_customer
from deskhand.imports.customers import export_customers, import_customers
from deskhand.system.cli import CLI_ACTOR, domain_errors_exit


class Command(BaseCommand):
    help = "Add, import and export customers."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Add a customer; the domain rule files them.")
        add.add_argument("email")
        add.add_argument("--name", default="")
        add.add_argument("--phone", default="")
        imports = actions.add_parser("import", help="Import customers from a CSV file with a header row.")
        imports.add_argument("file", help="a CSV file, or - for standard input")
        imports.add_argument("--dry-run", action="store_true", help="report what would happen, change nothing")
        imports.add_argument("--update-existing", action=BooleanOptionalAction, default=True,
                             help="update customers the file already knows with its non-empty cells "
                                  "(default); --no-update-existing leaves them unchanged")
        export = actions.add_parser("export", help="Write every customer as CSV.")
        export.add_argument("--output", "-o", default="-", help="a file (default: standard output)")

    @domain_errors_exit
    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "add":
            customer = create_customer(options["email"], name=options["name"], phone=options["phone"],
                                       source=Source.CLI, actor=CLI_ACTOR)
            where = customer.organization.name if customer.organization else "No organization"
            self.stdout.write(f"Added customer {customer.pk}: {customer.email} in {where}")
        elif action == "import":
            self._import(options["file"], dry_run=options["dry_run"], update_existing=options["update_existing"])
        else:
            self._export(options["output"])

    def _import(self, file: str, *, dry_run: bool, update_existing: bool) -> None:
        try:
            data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None

        def progress(done: int, total: int) -> None:
            self.stderr.write(f"  {done} of ~{total} rows…")

        report = import_customers(data, dry_run=dry_run, update_existing=update_existing, actor=CLI_ACTOR,
                                  progress=progress)
        for row in report.rows:
            if row.result == "error":
                self.stdout.write(f"line {row.line}: error: {row.email or '(no email)'}: {row.reason}")
            else:
                where = row.organization or "No organization"
                self.stdout.write(f"line {row.line}: {row.result}: {row.email} ({where})")
                kept = "" if update_existing else " (left unchanged)"
                for name, change in row.changes.items():
                    self.stdout.write(f"    {name}: {change['old'] or '(empty)'} → {change['new'] or '(empty)'}{kept}")
        summary = report.as_dict()
        prefix = "Dry run, nothing written: " if dry_run else ""
        self.stdout.write(f"{prefix}{summary['created']} created, {summary['matched']} matched, "
                          f"{summary['errors']} errors.")
        if report.failed:
            raise CommandError(f"{summary['errors']} rows failed.", returncode=1)

    def _export(self, output: str) -> None:
        if output == "-":
            export_customers(self.stdout)  # type: ignore[arg-type]  # OutputWrapper writes like a text file
            return
        with open(output, "w", newline="", encoding="utf-8") as handle:
            count = export_customers(handle)
        self.stderr.write(f"Wrote {count} customers to {output}.")
