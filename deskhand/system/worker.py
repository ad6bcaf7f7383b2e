"""The worker: the mail drainer, the task worker, the scheduler and IMAP IDLE, each a supervised
part. `deskhand worker` runs them; `deskhand serve` starts that command as a child process beside
its web server and SMTP listener (`WorkerProcess`), so that filing mail and running tasks never
compete with accepting mail for one interpreter, and a crash of either side leaves the other up.

The child is woken through a pipe when mail is stored (the drainer files it at once) and stops
when the pipe closes, so it never outlives `serve`.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Generic, TypeVar

from deskhand.system.supervise import Supervised

log = logging.getLogger("deskhand.serve")

T = TypeVar("T")
STOP_TIMEOUT = 30.0


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


class TaskWorker:
    """The task backend's worker loop on a thread: django-tasks-db's, or RQ's when tasks are in
    Redis (DESKHAND_TASKS_URL); `halt()` lets the running task finish."""

    def __init__(self) -> None:
        # How to stop the loop that runs now (each backend's loop has its own flag).
        self.stop_loop: Callable[[], None] | None = None
        self.halted = False

    def run(self) -> None:
        from django.conf import settings

        if settings.TASKS_VENDOR == "redis":
            self._run_rq()
            return
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=["*"], interval=0.1, batch=False, backend_name="default", startup_delay=False,
            max_tasks=None, worker_id=f"worker-{os.getpid()}", excluded_queue_names=[],
        )
        self.stop_loop = lambda: setattr(worker, "running", False)
        worker.running = not self.halted
        worker.run()

    def _run_rq(self) -> None:
        import django_rq
        from django_tasks_rq import Job

        from deskhand.system.lease import holder_name

        worker_class = _thread_worker_class()
        worker = django_rq.get_worker("default", job_class=Job, worker_class=worker_class, name=holder_name(),
                                      worker_ttl=16)
        # After its current job and at most a second of waiting for the next (ThreadWorker below).
        self.stop_loop = lambda: setattr(worker, "_stop_requested", True)
        if self.halted:
            return
        # RQ's loop ends by itself on an error it cannot handle (Redis gone): the supervisor
        # starts it again after its backoff, with a new connection.
        worker.work(with_scheduler=False, logging_level="WARNING")
        if not self.halted:
            raise RuntimeError("the RQ worker loop ended")

    def halt(self) -> None:
        self.halted = True
        if self.stop_loop is not None:
            self.stop_loop()


def _thread_worker_class() -> type:
    """RQ's SimpleWorker (jobs run in this process, no fork per job) on a thread of its own: it
    leaves signals to `run_until_signalled` and the database connections to the pool."""
    from django.db import close_old_connections
    from rq import SimpleWorker
    from rq.exceptions import StopRequested
    from rq.timeouts import TimerDeathPenalty

    class ThreadWorker(SimpleWorker):
        death_penalty_class = TimerDeathPenalty  # SIGALRM is the main thread's alone

        def _install_signal_handlers(self) -> None:
            pass

        def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
            # RQ waits for a job for as long as none comes; look at the stop flag every second.
            while not self._stop_requested:
                result = super().dequeue_job_and_maintain_ttl(timeout, max_idle_time=1)
                if result is not None:
                    return result
            raise StopRequested()

        def execute_job(self, job: Any, queue: Any) -> Any:
            close_old_connections()
            try:
                return super().execute_job(job, queue)
            finally:
                close_old_connections()

    return ThreadWorker


def run_until_signalled(parts: list[Supervised], *, stopping: threading.Event, name: str) -> None:
    """Wait for SIGINT or SIGTERM (or `stopping`), then stop `parts` in order, each given
    `STOP_TIMEOUT`; a second signal exits at once, without waiting for running tasks."""

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            raise SystemExit(1)
        log.info("%s: received %s, stopping.", name, signal.strsignal(signum))
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        for part in parts:
            part.stop(STOP_TIMEOUT)


def scheduler_part() -> Supervised:
    from deskhand.system.scheduler import Scheduler

    def start_scheduler() -> Scheduler:
        scheduler = Scheduler()
        scheduler.start()
        return scheduler

    def stop_scheduler(scheduler: Scheduler) -> None:
        scheduler.stop()
        scheduler.join(10)

    scheduler = Watched(start_scheduler, stop=stop_scheduler, alive=lambda s: s.is_alive())
    return Supervised("scheduler", scheduler.run, halt=scheduler.halt)


def worker_parts(*, scheduler: bool = True) -> list[Supervised]:
    """The worker's parts; without the scheduler when `deskhand scheduler` runs elsewhere (a
    scheduler here would stand by anyway while another holds the lease)."""
    from deskhand.ingest.drain import start_drainer, stop_drainer
    from deskhand.ingest.imap import start_idle

    # Mail stored by a transport is filed by the drainer thread, in batches.
    drainer = Watched(start_drainer, stop=lambda _drainer: stop_drainer(), alive=lambda d: d.is_alive())
    # IMAP mailboxes whose server offers IDLE announce new mail at once; polling stays the guarantee.
    idle = Watched(start_idle, stop=lambda watchers: watchers.stop(), alive=lambda w: w.is_alive())
    worker = TaskWorker()
    return [
        Supervised("mail-drainer", drainer.run, halt=drainer.halt),
        *([scheduler_part()] if scheduler else []),
        Supervised("imap-idle", idle.run, halt=idle.halt),
        Supervised("task-worker", worker.run, halt=worker.halt),
    ]


def listen_for_wakes(fd: int, *, gone: Callable[[], object]) -> threading.Thread:
    """Wake this process's drainer whenever the parent writes to the pipe `fd`; call `gone` when
    the parent closes it (it stopped, or died)."""
    from deskhand.ingest.drain import notify

    def listen() -> None:
        while True:
            try:
                data = os.read(fd, 4096)
            except InterruptedError:
                continue
            except OSError:
                data = b""
            if not data:
                gone()
                return
            notify()

    thread = threading.Thread(target=listen, name="worker-wake", daemon=True)
    thread.start()
    return thread


class WorkerProcess:
    """`deskhand worker` as a child of `serve`, run as a supervised part: `run()` returns when
    halted and raises when the child exits by itself (the supervisor starts a new one)."""

    def __init__(self) -> None:
        self.halted = threading.Event()

    def run(self) -> None:
        from deskhand.ingest.drain import wake_through

        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        try:
            # A session of its own: Ctrl+C in a terminal reaches serve, which stops the worker in turn.
            child = subprocess.Popen([sys.executable, "-m", "deskhand", "worker", "--wake-fd", str(read_end)],
                                     pass_fds=(read_end,), start_new_session=True)
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        wake_through(write_end)
        try:
            while child.poll() is None:
                if self.halted.wait(0.5):
                    child.send_signal(signal.SIGTERM)
                    try:
                        child.wait(STOP_TIMEOUT)
                    except subprocess.TimeoutExpired:
                        child.kill()
                        child.wait()
                    return
            raise RuntimeError(f"the worker process exited with {child.returncode}")
        finally:
            wake_through(None)
            os.close(write_end)
            if child.poll() is None:
                child.kill()
                child.wait()

    def halt(self) -> None:
        self.halted.set()
