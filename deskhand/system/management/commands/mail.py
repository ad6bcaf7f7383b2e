from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskhand.ingest.importer import ImportReport, import_mail
from deskhand.system.cli import domain_errors_exit
from deskhand.system.startup import ensure_support_addresses


class Command(BaseCommand):
    help = "Email: import a folder of .eml files, a Maildir or an mbox through the inbound pipeline."
    # The system checks load every URL, the API and its schemas: a third of an import's start-up,
    # for checks that `serve` and `check` run anyway.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        imports = actions.add_parser("import", help="Turn stored mail into tickets and replies, as if it arrived now.")
        imports.add_argument("path", help="a folder of .eml files, a Maildir folder, an mbox file or one .eml file")
        imports.add_argument("--jobs", type=int, default=max(1, min(2, (os.cpu_count() or 1)) - 1),
                             help="parser processes beside the writer (0: parse in this process)")
        imports.add_argument("--batch", type=int, default=200, help="mails per commit")

    @domain_errors_exit
    def handle(self, *args: Any, action: str, path: str, jobs: int, batch: int, **options: Any) -> None:
        source = Path(path)
        if not source.exists():
            raise CommandError(f"{path} does not exist.")
        if not 1 <= batch <= 5000:
            raise CommandError("--batch is a number from 1 to 5000.")

        ensure_support_addresses()

        def progress(report: ImportReport) -> None:
            self.stderr.write(f"  {report.total} mails…")

        report = import_mail(source, jobs=max(0, jobs), batch=batch, progress=progress if options["verbosity"] > 1 else None)
        for line in report.skipped:
            self.stdout.write(f"skipped {line}")
        counts = ", ".join(f"{count} {status}" for status, count in sorted(report.statuses.items())) or "nothing"
        self.stdout.write(f"Imported {report.total} mails in {report.seconds:.1f} s "
                          f"({report.rate:.0f} per second): {counts}.")
        if report.statuses.get("failed"):
            self.stdout.write("Failed mails are kept with their reason: Administration → Email, "
                              "or GET /api/v1/inbound-emails?status=failed.")
