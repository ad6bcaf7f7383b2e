from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand

from deskhand.system.worker import run_until_signalled, scheduler_part


class Command(BaseCommand):
    help = ("Run only the scheduler: SLA and automation sweeps, outbound retries, IMAP polls. Run one "
            "or two for redundancy: a database lease lets one at a time run the rounds.")

    def handle(self, *args: Any, **options: Any) -> None:
        part = scheduler_part()
        part.start()
        self.stdout.write("Deskhand scheduler started (Ctrl+C stops it)")
        try:
            run_until_signalled([part], stopping=threading.Event(), name="scheduler")
        finally:
            self.stdout.write("Deskhand scheduler stopped.")
