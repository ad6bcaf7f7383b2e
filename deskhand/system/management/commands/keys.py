from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from deskhand.core.keys import env_lines


class Command(BaseCommand):
    help = ("Print a new pair of keys as env-file lines, for every host's environment (docs/deploy.md). "
            "Nothing is stored: the keys exist only where you put them.")
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(env_lines())
