from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from deskhand.conf import conf, split_addr
from deskhand.system.startup import ensure_configured_records
from deskhand.system.webserver import HEADER_TIMEOUT, MAX_CONNECTIONS, multi_process_server

log = logging.getLogger("deskhand.serve")


class Command(BaseCommand):
    help = ("Run only the web server, in several processes (scale-out: `deskhand worker`, `deskhand "
            "scheduler` and `deskhand smtpd` run beside it). The same server `serve` embeds; a process "
            "that dies is started again. Apply migrations first with `deskhand migrate`.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default=conf.http_addr, help="host:port (DESKHAND_HTTP_ADDR)")
        parser.add_argument("--workers", type=int, default=2, help="web processes (one per core is a good start)")
        parser.add_argument("--threads", type=int, default=conf.web_threads,
                            help="web requests each process handles at once (DESKHAND_WEB_THREADS)")
        parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS,
                            help="open HTTP connections each process holds at once")
        parser.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT,
                            help="seconds a client has to send a request's headers")

    def handle(self, *args: Any, addr: str, workers: int, threads: int, max_connections: int,
               header_timeout: float, **options: Any) -> None:
        if not 1 <= workers <= 64:
            raise CommandError("--workers must be between 1 and 64.")
        if not 1 <= threads <= 256:
            raise CommandError("--threads must be between 1 and 256.")
        host, port = split_addr(addr)
        ensure_configured_records()
        # The processes start from a fresh interpreter (no database connection, pool or thread of
        # this one is inherited) and build the application from deskhand.asgi.
        connections.close_all()
        multiprocessing.set_start_method("spawn", force=True)
        os.environ["DESKHAND_WEB_THREADS"] = str(threads)
        # Each process writes its request figures here; a scrape of any process adds them all up.
        figures = settings.DATA_DIR / "metrics" / f"web-{os.getpid()}"
        shutil.rmtree(figures, ignore_errors=True)
        figures.mkdir(parents=True, mode=0o700)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(figures)
        server = multi_process_server(host, port, workers=workers, header_timeout=header_timeout,
                                      max_connections=max_connections)
        self.stdout.write(f"Deskhand web on http://{host}:{port}/ with {workers} processes (Ctrl+C stops it)")
        self.stdout.flush()
        try:
            server.serve()
        finally:
            shutil.rmtree(figures, ignore_errors=True)
        self.stdout.write("Deskhand web stopped.")
