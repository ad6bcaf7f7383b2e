"""The SMTP listener's journal: accepted mail that could not go into the database at once.

The listener answers 250 only once a mail is durably stored. Normally that is its database row.
When the database cannot take it within a few milliseconds (SQLite's one write lock held by the
worker filing a batch, or the database away), the group of mails is appended to a journal file in
the data directory instead, flushed to disk (`fdatasync`, and the folder after the rename that
makes the file whole), and then answered 250. A mover thread puts journaled mail into the
database as soon as it can, oldest file first, and deletes each file once its mails are
committed. Each mail carries a key (file name and position) in a unique column, so a file that is
moved again after a crash between the commit and the delete adds nothing twice.

A file holds a header line, then per mail one line `<header length> <mail size>`, a JSON header
(envelope sender and recipients) and the raw bytes.
"""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from deskhand.ingest.receive import MAX_RAW_BYTES, SpooledMail

log = logging.getLogger("deskhand.smtpd")

MAGIC = b"DESKHAND-JOURNAL 1\n"
COPY_CHUNK = 1024 * 1024
# 100 recipients of 254 characters, each at most 4 bytes in UTF-8, fit with room to spare.
MAX_HEADER = 256 * 1024


class JournalError(Exception):
    """A journal file that is not what this module writes."""


class Taken(Exception):
    """Another listener sharing this data directory is moving this file (or has moved it)."""


def journal_dir(data_dir: Path) -> Path:
    path = data_dir / "journal"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


_sequence = 0
_sequence_lock = threading.Lock()


def _next_name() -> str:
    global _sequence
    with _sequence_lock:
        _sequence += 1
        sequence = _sequence
    # Names sort in the order the groups were written (within a process; across processes by time).
    return f"{time.time_ns():020d}-{os.getpid()}-{sequence:08d}.mails"


def append(directory: Path, mails: list[SpooledMail]) -> list[str]:
    """Write a group of mails to a new journal file, durably; their keys, in order."""
    name = _next_name()
    temporary = directory / f".{name}.part"
    with temporary.open("wb") as handle:
        handle.write(MAGIC)
        for mail in mails:
            header = json.dumps({"from": mail.envelope_from, "to": list(mail.envelope_to)},
                                ensure_ascii=False).encode("utf-8", "surrogateescape")
            if len(header) > MAX_HEADER:
                raise JournalError(f"an envelope of {len(header)} bytes")
            handle.write(b"%d %d\n" % (len(header), mail.size))
            handle.write(header)
            mail.spool.seek(0)
            copied = 0
            while chunk := mail.spool.read(COPY_CHUNK):
                handle.write(chunk)
                copied += len(chunk)
            if copied != mail.size:
                raise JournalError(f"a spooled mail has {copied} bytes, not {mail.size}")
        handle.flush()
        os.fdatasync(handle.fileno())
    os.rename(temporary, directory / name)
    _sync_folder(directory)
    return [f"{name}:{index}" for index in range(len(mails))]


def _sync_folder(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Part(io.RawIOBase):
    """One mail inside a journal file, read in place."""

    def __init__(self, handle: IO[bytes], start: int, size: int) -> None:
        super().__init__()
        self.handle, self.start, self.size, self.position = handle, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, min(self.size, base + offset))
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.size - self.position)
        if wanted <= 0:
            return 0
        self.handle.seek(self.start + self.position)
        data = self.handle.read(wanted)
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)


@contextmanager
def read_file(path: Path) -> Iterator[list[tuple[str, SpooledMail]]]:
    """The mails of a journal file with their keys, readable while the context is open. The file
    is locked meanwhile: two listeners on one data directory (`deskhand smtpd` twice) never move
    the same file at once; the lock goes with a process that dies."""
    try:
        opened = path.open("rb")
    except FileNotFoundError:
        raise Taken(path.name) from None
    with opened as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.stat(path).st_ino != os.fstat(handle.fileno()).st_ino:
                raise FileNotFoundError(path)
        except (BlockingIOError, FileNotFoundError):
            raise Taken(path.name) from None
        if handle.read(len(MAGIC)) != MAGIC:
            raise JournalError(f"{path.name} is not a journal file")
        found: list[tuple[str, SpooledMail]] = []
        while line := handle.readline(64):
            try:
                header_size, size = (int(part) for part in line.split())
            except ValueError:
                raise JournalError(f"{path.name}: a broken record at mail {len(found)}") from None
            if not (0 < header_size <= MAX_HEADER and 0 < size <= MAX_RAW_BYTES):
                raise JournalError(f"{path.name}: a record out of bounds at mail {len(found)}")
            header = json.loads(handle.read(header_size))
            start = handle.tell()
            handle.seek(start + size)
            if handle.tell() > os.fstat(handle.fileno()).st_size:
                raise JournalError(f"{path.name}: mail {len(found)} is cut short")
            found.append((f"{path.name}:{len(found)}", SpooledMail(
                io.BufferedReader(_Part(handle, start, size)), size, header.get("from"), tuple(header.get("to") or ()))))
        yield found


def pending_files(directory: Path) -> list[Path]:
    """Whole journal files, oldest first (a `.part` file is one a crash cut short: never answered)."""
    return sorted(path for path in directory.glob("*.mails") if path.is_file())
