"""Django's SQLite backend, with a connection that can ask for the write lock on its own terms.

SQLite's busy handler sleeps longer and longer between tries (up to 100 ms each), so a writer that
finds the lock held keeps missing the moments it is free while a writer that never had to wait
takes it again. A connection with `begin_timeout` set (the SMTP listener's store: 0, one try, then
the journal) tries `BEGIN` every millisecond or two for that long instead. Every other connection
behaves exactly as Django's: the busy handler, for the configured `timeout`.
"""

from __future__ import annotations

import sqlite3
import time

from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper

LONGEST_PAUSE = 0.002


class DatabaseWrapper(SQLiteDatabaseWrapper):
    # Seconds this connection tries for the write lock, polling, instead of the busy handler's
    # `timeout` (None: Django's behaviour). The SMTP store's is 0 (deskhand/ingest/journal.py).
    begin_timeout: float | None = None

    def _start_transaction_under_autocommit(self) -> None:
        if self.begin_timeout is None:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        mode = getattr(self, "transaction_mode", None)
        begin = f"BEGIN {mode}" if mode else "BEGIN"
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        wait = self.begin_timeout
        raw = self.connection
        with self.wrap_database_errors:
            raw.execute("PRAGMA busy_timeout = 0")
            try:
                deadline = time.monotonic() + wait
                pause = 0.0002
                while True:
                    try:
                        raw.execute(begin)
                        return
                    except sqlite3.OperationalError as exc:
                        if "locked" not in str(exc) or time.monotonic() > deadline:
                            raise
                    time.sleep(pause)
                    pause = min(pause * 2, LONGEST_PAUSE)
            finally:
                raw.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
