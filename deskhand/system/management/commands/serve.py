from __future__ import annotations

import logging
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskhand.conf import conf, split_addr
from deskhand.system.startup import ensure_configured_records
from deskhand.system.supervise import Supervised
from deskhand.system.webserver import HEADER_TIMEOUT, MAX_CONNECTIONS, WebServer
from deskhand.system.worker import Watched, WorkerProcess, run_until_signalled

logger = logging.getLogger("deskhand.serve")



class Command(BaseCommand):
    help = "Run Deskhand: web server and SMTP listener, with the worker (tasks, mail filing, scheduler) beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default=conf.http_addr, help="host:port (DESKHAND_HTTP_ADDR)")
        parser.add_argument("--threads", type=int, default=conf.web_threads,
                            help="web requests handled at once (DESKHAND_WEB_THREADS)")
        parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS,
                            help="open HTTP connections held at once (idle or slow ones included)")
        parser.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT,
                            help="seconds a client has to send a request's headers")
        parser.add_argument("--smtp-addr", default=conf.smtp_addr, help="host:port (DESKHAND_SMTP_ADDR)")
        parser.add_argument("--no-smtp", action="store_true", help="do not run the SMTP listener here")
        parser.add_argument("--no-worker", action="store_true", help="do not start the worker (run `deskhand worker` elsewhere)")
        parser.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")

    def handle(self, *args: Any, addr: str, threads: int, max_connections: int, header_timeout: float,
               smtp_addr: str, no_smtp: bool, no_worker: bool, no_migrate: bool, **options: Any) -> None:
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        ensure_configured_records()

        from deskhand.system.asgi import build_application

        host, port = split_addr(addr)
        web = WebServer(build_application(threads=threads), host, port, header_timeout=header_timeout,
                        max_connections=max_connections)
        # Each part runs under a supervisor: an exception is logged and that part starts again.
        parts = [Supervised("web", web.run, halt=web.halt)]
        parts[0].start()
        if not web.listening.wait(30):
            parts[0].stop()
            raise CommandError(f"The web server could not listen on {host}:{port} (see the log above).")
        if not no_smtp:
            from deskhand.ingest.smtpd import start_listener

            smtp_host, smtp_port = split_addr(smtp_addr)
            from deskhand.ingest.smtp_tls import tls_context

            try:  # a wrong TLS setting stops serve at start, with what is missing, instead of every restart
                context = tls_context()
            except ValueError as exc:
                parts[0].stop()
                raise SystemExit(str(exc)) from None
            smtp = Watched(lambda: start_listener(smtp_host, smtp_port, tls=context),
                           stop=lambda listener: listener.stop(),
                           alive=lambda listener: listener.is_alive())
            parts.append(Supervised("smtp-listener", smtp.run, halt=smtp.halt))
            self.stdout.write(f"SMTP listener on {smtp_host}:{smtp_port}")
        if not no_worker:
            # The worker (mail filing, tasks, the scheduler) runs in a process of its own beside this
            # one: a flood of mail is accepted here on one core while it is filed on the other.
            worker = WorkerProcess()
            parts.append(Supervised("worker", worker.run, halt=worker.halt))
        for part in parts[1:]:
            part.start()
        self.stdout.write(f"Deskhand is serving on http://{host}:{port}/ (Ctrl+C stops it)")

        try:
            # The web server first (no new requests), the worker last (it finishes its task).
            run_until_signalled(parts, stopping=threading.Event(), name="serve")
        finally:
            self.stdout.write("Deskhand stopped.")
