from __future__ import annotations

import logging
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from deskhand.conf import conf, split_addr
from deskhand.system.startup import ensure_configured_records

logger = logging.getLogger("deskhand.serve")


class Command(BaseCommand):
    help = "Run Deskhand in one process: web server, SMTP listener, task worker and scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default=conf.http_addr, help="host:port (DESKHAND_HTTP_ADDR)")
        parser.add_argument("--threads", type=int, default=8, help="web server threads")
        parser.add_argument("--smtp-addr", default=conf.smtp_addr, help="host:port (DESKHAND_SMTP_ADDR)")
        parser.add_argument("--no-smtp", action="store_true", help="do not run the SMTP listener here")
        parser.add_argument("--no-worker", action="store_true", help="do not run the task worker and scheduler here")
        parser.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")

    def handle(self, *args: Any, addr: str, threads: int, smtp_addr: str, no_smtp: bool, no_worker: bool,
               no_migrate: bool, **options: Any) -> None:
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        ensure_configured_records()

        from waitress.server import create_server

        from deskhand.wsgi import application

        host, port = split_addr(addr)
        server = create_server(application, host=host, port=port, threads=threads, ident="Deskhand",
                               channel_timeout=60, max_request_body_size=110 * 1024 * 1024)
        web = threading.Thread(target=server.run, name="web", daemon=True)
        web.start()
        listener = None
        if not no_smtp:
            from deskhand.ingest.smtpd import start_listener

            smtp_host, smtp_port = split_addr(smtp_addr)
            try:
                listener = start_listener(smtp_host, smtp_port)
            except ValueError as exc:  # the TLS certificate settings
                server.close()
                raise SystemExit(str(exc)) from None
            self.stdout.write(f"SMTP listener on {smtp_host}:{smtp_port}")
        scheduler = idle = None
        if not no_worker:
            from deskhand.ingest.drain import start_drainer, stop_drainer
            from deskhand.ingest.imap import start_idle
            from deskhand.system.scheduler import Scheduler

            # Mail stored by this process's listener is filed by this thread, in batches.
            start_drainer()
            scheduler = Scheduler()
            scheduler.start()
            # IMAP mailboxes whose server offers IDLE announce new mail at once; polling stays the guarantee.
            idle = start_idle()
        self.stdout.write(f"Deskhand is serving on http://{host}:{port}/ (Ctrl+C stops it)")
        try:
            if no_worker:
                web.join()
            else:
                self._run_worker()
        except KeyboardInterrupt:
            pass
        finally:
            if listener is not None:
                listener.stop()
            if scheduler is not None:
                scheduler.stop()
            if idle is not None:
                idle.stop()
                stop_drainer()
            server.close()
            self.stdout.write("Deskhand stopped.")

    def _run_worker(self) -> None:
        # The worker loop owns the main thread: it handles SIGINT/SIGTERM and stops cleanly.
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=["*"], interval=0.1, batch=False, backend_name="default", startup_delay=False,
            max_tasks=None, worker_id="serve", excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()
