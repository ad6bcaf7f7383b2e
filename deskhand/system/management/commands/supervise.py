from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskhand.system.supervise import BACKOFF, HEALTHY_AFTER

ALLOWED = {"web", "worker", "scheduler", "smtpd", "serve"}


class Command(BaseCommand):
    help = ("Run a Deskhand process (`web`, `worker`, `scheduler`, `smtpd`) and start it again whenever it "
            "dies, as systemd's Restart=always does; for Procfiles (`make run-scaled`), where one process "
            "that ends would stop them all. SIGTERM or Ctrl+C stop it and the process.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("process", nargs=argparse.REMAINDER, help="the deskhand command and its options")

    def handle(self, *args: Any, process: list[str], **options: Any) -> None:
        if not process or process[0] not in ALLOWED:
            raise CommandError(f"Name one of {', '.join(sorted(ALLOWED))}, then its options.")
        stopping = threading.Event()
        child: subprocess.Popen[bytes] | None = None

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()
            if child is not None and child.poll() is None:
                child.send_signal(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        failures = 0
        while not stopping.is_set():
            started = time.monotonic()
            child = subprocess.Popen([sys.executable, "-m", "deskhand", *process])
            if stopping.is_set():  # the signal came while the child was being started
                child.send_signal(signal.SIGTERM)
            code = child.wait()
            if stopping.is_set():
                sys.exit(0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code)
            if code in (0, 2):  # it ended by itself, or its options were wrong: starting again won't help
                sys.exit(code)
            failures = 0 if time.monotonic() - started > HEALTHY_AFTER else failures + 1
            pause = BACKOFF[min(failures, len(BACKOFF)) - 1] if failures else BACKOFF[0]
            self.stderr.write(f"deskhand {process[0]} (pid {child.pid}) exited with {code}; "
                              f"starting it again in {pause:g} s")
            stopping.wait(pause)
