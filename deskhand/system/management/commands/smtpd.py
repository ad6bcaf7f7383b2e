from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskhand.conf import conf, split_addr


class Command(BaseCommand):
    help = ("Run only the SMTP listener (scale-out, or a separate MX host): it stores each mail and "
            "queues it for the workers (`deskhand worker`). Several may listen on one address.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default=conf.smtp_addr, help="host:port (DESKHAND_SMTP_ADDR)")

    def handle(self, *args: Any, addr: str, **options: Any) -> None:
        from deskhand.ingest.smtpd import start_listener

        host, port = split_addr(addr)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        try:
            listener = start_listener(host, port, reuse_port=True)
        except ValueError as exc:  # the TLS certificate settings
            raise SystemExit(str(exc)) from None
        self.stdout.write(f"SMTP listener on {host}:{port} (Ctrl+C stops it)")
        try:
            stop.wait()
        finally:
            listener.stop()
            self.stdout.write("SMTP listener stopped.")
