"""Keep each part of `deskhand serve` running: an exception in one part is logged and that part
starts again after a short pause, while the rest of the process goes on serving.

A part is a blocking callable that runs until it is told to stop (or returns by itself). The
supervisor calls it in a loop on its own thread: when it raises, the error is logged and it is
called again after a backoff that grows with repeated failures and resets once a run lasted a
while. When it returns while the supervisor is not stopping, that is treated as a failure too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import connections

log = logging.getLogger("deskhand.serve")

BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
# A run that lasted this long counts as healthy: the next failure starts the backoff again.
HEALTHY_AFTER = 60.0


class Supervised(threading.Thread):
    """Run `run()` until `stop()`; `halt` is called by `stop()` to make a running `run()` return."""

    def __init__(self, name: str, run: Callable[[], object], *, halt: Callable[[], object] | None = None,
                 backoff: tuple[float, ...] = BACKOFF, healthy_after: float = HEALTHY_AFTER) -> None:
        super().__init__(name=name, daemon=True)
        self.part = run
        self.halt = halt
        self.backoff = backoff
        self.healthy_after = healthy_after
        self.stopped = threading.Event()
        self.restarts = 0

    def run(self) -> None:
        failures = 0
        while not self.stopped.is_set():
            began = time.monotonic()
            try:
                self.part()
            except Exception:  # noqa: BLE001 - one part failing must not stop serve
                log.exception("%s failed", self.name)
            else:
                if self.stopped.is_set():
                    break
                log.error("%s stopped unexpectedly", self.name)
            finally:
                # A connection left broken by the failure must not be reused by the next run.
                connections.close_all()
            if time.monotonic() - began >= self.healthy_after:
                failures = 0
            delay = self.backoff[min(failures, len(self.backoff) - 1)]
            failures += 1
            self.restarts += 1
            log.warning("%s restarts in %g s", self.name, delay)
            self.stopped.wait(delay)

    def stop(self, timeout: float = 10.0) -> None:
        self.stopped.set()
        if self.halt is not None:
            try:
                self.halt()
            except Exception:  # noqa: BLE001 - stopping goes on for the other parts
                log.exception("%s did not stop cleanly", self.name)
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
