from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Generic, TypeVar

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskhand.conf import conf, split_addr
from deskhand.system.startup import ensure_configured_records
from deskhand.system.supervise import Supervised
from deskhand.system.webserver import HEADER_TIMEOUT, MAX_CONNECTIONS, WebServer

logger = logging.getLogger("deskhand.serve")

T = TypeVar("T")
STOP_TIMEOUT = 30.0


class Command(BaseCommand):
    help = "Run Deskhand in one process: web server, SMTP listener, task worker and scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default=conf.http_addr, help="host:port (DESKHAND_HTTP_ADDR)")
        parser.add_argument("--threads", type=int, default=32, help="web requests handled at once")
        parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS,
                            help="open HTTP connections held at once (idle or slow ones included)")
        parser.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT,
                            help="seconds a client has to send a request's headers")
        parser.add_argument("--smtp-addr", default=conf.smtp_addr, help="host:port (DESKHAND_SMTP_ADDR)")
        parser.add_argument("--no-smtp", action="store_true", help="do not run the SMTP listener here")
        parser.add_argument("--no-worker", action="store_true", help="do not run the task worker and scheduler here")
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
                           alive=lambda listener: bool(listener._thread and listener._thread.is_alive()))
            parts.append(Supervised("smtp-listener", smtp.run, halt=smtp.halt))
            self.stdout.write(f"SMTP listener on {smtp_host}:{smtp_port}")
        if not no_worker:
            parts += _worker_parts()
        for part in parts[1:]:
            part.start()
        self.stdout.write(f"Deskhand is serving on http://{host}:{port}/ (Ctrl+C stops it)")

        stopping = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            if stopping.is_set():
                raise SystemExit(1)  # a second Ctrl+C: do not wait for running tasks
            logger.info("Received %s: stopping.", signal.strsignal(signum))
            stopping.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            while not stopping.wait(1.0):
                pass
        finally:
            # The web server first (no new requests), the worker last (it finishes its task).
            for part in parts:
                part.stop(STOP_TIMEOUT)
            self.stdout.write("Deskhand stopped.")


class Watched(Generic[T]):
    """A part that runs on threads of its own (aiosmtpd's controller, the scheduler): `run()`
    starts it and returns only when `halt()` is called or raises when its thread has died."""

    def __init__(self, start: Callable[[], T], *, stop: Callable[[T], object], alive: Callable[[T], bool],
                 every: float = 1.0) -> None:
        self.start, self.stop, self.alive, self.every = start, stop, alive, every
        self.halted = threading.Event()

    def run(self) -> None:
        started: T = self.start()
        try:
            while not self.halted.wait(self.every):
                if not self.alive(started):
                    raise RuntimeError("its thread ended")
        finally:
            self.stop(started)

    def halt(self) -> None:
        self.halted.set()


def _worker_parts() -> list[Supervised]:
    from deskhand.ingest.drain import start_drainer, stop_drainer
    from deskhand.ingest.imap import start_idle
    from deskhand.system.scheduler import Scheduler

    def start_scheduler() -> Scheduler:
        scheduler = Scheduler()
        scheduler.start()
        return scheduler

    def stop_scheduler(scheduler: Scheduler) -> None:
        scheduler.stop()
        scheduler.join(10)

    # Mail stored by this process's listener is filed by the drainer thread, in batches.
    drainer = Watched(start_drainer, stop=lambda _drainer: stop_drainer(), alive=lambda d: d.is_alive())
    scheduler = Watched(start_scheduler, stop=stop_scheduler, alive=lambda s: s.is_alive())
    # IMAP mailboxes whose server offers IDLE announce new mail at once; polling stays the guarantee.
    idle = Watched(start_idle, stop=lambda watchers: watchers.stop(), alive=lambda w: w.is_alive())
    worker = TaskWorker()
    return [
        Supervised("mail-drainer", drainer.run, halt=drainer.halt),
        Supervised("scheduler", scheduler.run, halt=scheduler.halt),
        Supervised("imap-idle", idle.run, halt=idle.halt),
        Supervised("task-worker", worker.run, halt=worker.halt),
    ]


class TaskWorker:
    """django-tasks-db's worker loop on a thread; `halt()` lets the running task finish."""

    def __init__(self) -> None:
        self.current: Any = None
        self.halted = False

    def run(self) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        self.current = Worker(
            queue_names=["*"], interval=0.1, batch=False, backend_name="default", startup_delay=False,
            max_tasks=None, worker_id="serve", excluded_queue_names=[],
        )
        self.current.running = not self.halted
        self.current.run()

    def halt(self) -> None:
        self.halted = True
        if self.current is not None:
            self.current.running = False
