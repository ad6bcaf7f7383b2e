"""Mail filing in the worker (`deskhand worker`, or the one `deskhand serve` starts beside itself):
a thread that files received mail in batches as soon as a transport says there is some, instead
of a queued task per mail.

A task per mail costs more than filing the mail (a task row written, claimed and closed for each).
The drainer takes every mail waiting, in batches, through the same `process_ids`. `serve`'s
listener wakes it through a pipe to the worker process; where no drainer can be woken
(`deskhand smtpd` on an MX host), transports queue the task instead; the scheduler's sweep
catches anything left.
"""

from __future__ import annotations

import logging
import os
import threading

from django.db import close_old_connections

from deskhand.ingest.pipeline import pending_ids, process_ids

log = logging.getLogger("deskhand.ingest")

BATCH = 50
BREATH = 0.003
LINGER = 0.05
_drainer: Drainer | None = None
# In `serve`, the write end of the pipe that wakes the worker process's drainer.
_wake_fd: int | None = None
_wake_lock = threading.Lock()


class Drainer(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="mail-drainer", daemon=True)
        self.wake = threading.Event()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.wake.wait(timeout=5.0)
            # A moment for the mail arriving just behind this one: a batch costs much less per mail
            # than a mail on its own, and a person does not notice 50 ms.
            self.stopped.wait(LINGER)
            self.wake.clear()
            try:
                close_old_connections()
                while not self.stopped.is_set() and (ids := pending_ids(BATCH)):
                    if not process_ids(ids) or len(ids) < BATCH:
                        # Caught up: the next mail waits for its wake-up (and the linger) to come
                        # with the ones behind it, instead of being filed alone.
                        break
                    # A breath between batches: on SQLite the listener's commit gets the lock.
                    self.stopped.wait(BREATH)
            except Exception:  # noqa: BLE001 - the next wake-up or the sweep tries again
                log.exception("mail drainer: a batch failed")
        close_old_connections()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()
        self.join(timeout=30)


def start_drainer() -> Drainer:
    global _drainer
    _drainer = Drainer()
    _drainer.start()
    return _drainer


def stop_drainer() -> None:
    global _drainer
    if _drainer is not None:
        _drainer.stop()
        _drainer = None


def wake_through(fd: int | None) -> None:
    """Wake the drainer of a worker process by writing to `fd` (None: no such process). The
    caller closes an fd it replaces only after this returns: no wake-up is written to it then."""
    global _wake_fd
    with _wake_lock:
        _wake_fd = fd


def notify() -> bool:
    """Wake the drainer of this process, or of the worker process `serve` started; False when
    there is none (then queue a task)."""
    if _drainer is not None and _drainer.is_alive():
        _drainer.wake.set()
        return True
    with _wake_lock:
        fd = _wake_fd
        if fd is None:
            return False
        try:
            os.write(fd, b"\0")
        except BlockingIOError:  # the pipe is full: a wake-up is pending anyway
            pass
        except OSError:  # the worker process is gone; its successor's sweep or a task files the mail
            return False
    return True
