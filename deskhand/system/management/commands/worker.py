from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskhand.system.worker import listen_for_wakes, run_until_signalled, worker_parts


class Command(BaseCommand):
    help = "Run the worker: mail filing, queued tasks, the scheduler and IMAP IDLE (`serve` starts one itself)."

    def add_arguments(self, parser: CommandParser) -> None:
        # For `serve`: a pipe that wakes the mail drainer, and whose end means that serve is gone.
        parser.add_argument("--wake-fd", type=int, default=None, help="(used by deskhand serve)")
        parser.add_argument("--no-scheduler", action="store_true",
                            help="leave the scheduler to `deskhand scheduler` (one runs rounds at a time anyway)")

    def handle(self, *args: Any, wake_fd: int | None, no_scheduler: bool, **options: Any) -> None:
        stopping = threading.Event()
        parts = worker_parts(scheduler=not no_scheduler)
        for part in parts:
            part.start()
        if wake_fd is not None:
            listen_for_wakes(wake_fd, gone=stopping.set)
        self.stdout.write("Deskhand worker started (Ctrl+C stops it)")

        try:
            run_until_signalled(parts, stopping=stopping, name="worker")
        finally:
            self.stdout.write("Deskhand worker stopped.")
