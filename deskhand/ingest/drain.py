"""Processing inside `deskhand serve`: a thread that files received mail in batches as soon as
a transport says there is some, instead of a queued task per mail.

With the SMTP listener and the worker in one process, a task per mail costs more than filing the
mail (a task row written, claimed and closed for each). The drainer takes every mail waiting, in
batches, through the same `process_ids`. Where no drainer runs (`deskhand smtpd` on an MX host,
a web process), transports queue the task instead; the scheduler's sweep catches anything left.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections

from deskhand.ingest.pipeline import pending_ids, process_ids

log = logging.getLogger("deskhand.ingest")

BATCH = 50
_drainer: Drainer | None = None


class Drainer(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="mail-drainer", daemon=True)
        self.wake = threading.Event()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.wake.wait(timeout=5.0)
            self.wake.clear()
            try:
                close_old_connections()
                while not self.stopped.is_set() and (ids := pending_ids(BATCH)):
                    if not process_ids(ids):
                        break
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


def notify() -> bool:
    """Wake the drainer of this process; False when there is none (then queue a task)."""
    if _drainer is None or not _drainer.is_alive():
        return False
    _drainer.wake.set()
    return True
