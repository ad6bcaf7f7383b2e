from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskhand.system.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = ("Restore a backup written by `deskhand backup` into an empty data directory and empty database "
            "(DESKHAND_DATA_DIR, DATABASE_URL), after checking every file against the manifest.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", metavar="DIR", type=Path)

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        try:
            summary = restore_backup(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(summary.text())
