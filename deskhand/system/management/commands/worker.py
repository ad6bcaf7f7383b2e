from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskhand.system.worker import STOP_TIMEOUT, listen_for_wakes, worker_parts

logger = logging.getLogger("deskhand.serve")


class Command(BaseCommand):
    help = "Run the worker: mail filing, queued tasks, the scheduler and IMAP IDLE (`serve` starts one itself)."

    def add_arguments(self, parser: CommandParser) -> None:
        # For `serve`: a pipe that wakes the mail drainer, and whose end means that serve is gone.
        parser.add_argument("--wake-fd", type=int, default=None, help="(used by deskhand serve)")

    def handle(self, *args: Any, wake_fd: int | None, **options: Any) -> None:
        stopping = threading.Event()
        parts = worker_parts()
        for part in parts:
            part.start()
        if wake_fd is not None:
            listen_for_wakes(wake_fd, gone=stopping.set)
        self.stdout.write("Deskhand worker started (Ctrl+C stops it)")

        def request_stop(signum: int, frame: FrameType | None) -> None:
            if stopping.is_set():
                raise SystemExit(1)  # a second Ctrl+C: do not wait for running tasks
            logger.info("worker: received %s, stopping.", signal.strsignal(signum))
            stopping.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            while not stopping.wait(1.0):
                pass
        finally:
            for part in parts:
                part.stop(STOP_TIMEOUT)
            self.stdout.write("Deskhand worker stopped.")
