from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskhand.system.backup import BackupError, write_backup


class Command(BaseCommand):
    help = ("Write a consistent backup into DIR (new or empty) while Deskhand runs: the database, the data "
            "directory's keys and every stored file, with manifest.json listing their checksums.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", metavar="DIR", type=Path)

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        try:
            summary = write_backup(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(summary.text())
        if summary.problems:
            # The backup is whole, but the storage had already lost or damaged these files.
            shown = ", ".join(summary.problems[:10])
            raise CommandError(f"{len(summary.problems)} files the database names could not be backed up as they "
                               f"were recorded: {shown} (manifest.json, \"problems\").")
