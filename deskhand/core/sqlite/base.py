"""Django's SQLite backend, with a prompter wait for the write lock.

Two processes share the database on one machine (`serve` accepts mail, its worker files it).
SQLite's own busy handler sleeps ever longer between tries (up to 100 ms each), so a writer that
finds the lock held keeps missing the moment it is free while the other writer, which never had
to wait, takes it again: under a flood of mail the listener's commits waited on the filing. Here a
transaction that finds the lock held tries again every millisecond or two until the configured
`timeout`, so it gets the lock at the next gap between the other side's transactions.
"""

from __future__ import annotations

import sqlite3
import time

from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper

LONGEST_PAUSE = 0.002


class DatabaseWrapper(SQLiteDatabaseWrapper):
    # How long this connection waits for the write lock, when not the configured `timeout`: the
    # SMTP listener waits a few milliseconds and journals the mail instead (deskhand/ingest/journal.py).
    begin_timeout: float | None = None

    def _start_transaction_under_autocommit(self) -> None:
        mode = getattr(self, "transaction_mode", None)
        begin = f"BEGIN {mode}" if mode else "BEGIN"
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        wait = self.begin_timeout if self.begin_timeout is not None else timeout
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
