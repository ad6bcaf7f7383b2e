"""The built-in SMTP listener (aiosmtpd): it stores the raw mail and only then answers 250. If
the mail cannot be stored it answers 451, so the sending server keeps it and tries again.

Point an MX record or a forward at it. It runs inside `deskhand serve`, or alone
(`deskhand smtpd`) on a separate MX host that shares the database.

It faces the internet, so everything it holds is bounded: mail only for ticket addresses (550
for the rest), command lines of RFC 5321 length, message data read in chunks and spooled to disk
beyond `SPOOL_IN_MEMORY`, at most `MAX_SESSIONS` sessions (`MAX_SESSIONS_PER_CLIENT` per client
address), a deadline per command and one for the whole DATA that trickled bytes do not extend,
and mail stored by one thread, a group of at most `STORE_GROUP_BYTES` at a time. STARTTLS is on (a self-signed
certificate unless DESKHAND_SMTP_TLS_CERT/KEY name one) and PIPELINING is advertised.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import ssl
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session, syntax
from django.db import InterfaceError, OperationalError, close_old_connections, connection, connections

from deskhand.conf import conf
from deskhand.core.errors import DomainError
from deskhand.ingest.journal import JournalError, Taken, append, journal_dir, pending_files, read_file
from deskhand.ingest.receive import MAX_RAW_BYTES, SpooledMail, check_spooled, receive_files
from deskhand.mail.models import Transport
from deskhand.mail.queries import is_support_address, is_ticket_address

log = logging.getLogger("deskhand.smtpd")

MAX_RECIPIENTS = 100
MAX_SESSIONS = 100
MAX_SESSIONS_PER_CLIENT = 10
# A command must arrive whole within this time (RFC 5321 §4.5.3.2 asks servers to wait five
# minutes; two are plenty for a machine and cut a slow client's hold by half).
COMMAND_TIMEOUT = 120.0
# The whole message data, however it trickles in: 10 minutes is 150 KB/s for the largest mail.
DATA_TIMEOUT = 600.0
READ_CHUNK = 256 * 1024
SPOOL_IN_MEMORY = 1024 * 1024
# At most this many mails, or this many bytes of mail (a larger mail alone), in one commit.
STORE_GROUP = 200
STORE_GROUP_BYTES = 8 * 1024 * 1024
# How long a group waits for the database before it goes to the journal instead (no wait: one try).
STORE_LOCK_WAIT = 0.0
# The journal mover puts at most this much mail into the database in one transaction.
MOVE_BYTES = 8 * 1024 * 1024
ABANDONED_PART = 600.0

TOO_MANY = "421 4.7.0 Too many connections, try again later"
TIMED_OUT = "421 4.4.2 Timeout, closing connection"

_CR, _LF, _DOT = 0x0D, 0x0A, 0x2E


class SessionGate:
    """Counts open sessions, overall and per client address. Used from the listener's event loop
    only, so it needs no lock."""

    def __init__(self, *, max_sessions: int = MAX_SESSIONS, per_client: int = MAX_SESSIONS_PER_CLIENT) -> None:
        self.max_sessions = max_sessions
        self.per_client = per_client
        self.total = 0
        self.by_client: dict[str, int] = {}

    def admit(self, client: str) -> bool:
        if self.total >= self.max_sessions or self.by_client.get(client, 0) >= self.per_client:
            return False
        self.total += 1
        self.by_client[client] = self.by_client.get(client, 0) + 1
        return True

    def release(self, client: str) -> None:
        self.total -= 1
        left = self.by_client.get(client, 1) - 1
        if left > 0:
            self.by_client[client] = left
        else:
            self.by_client.pop(client, None)


class DataStream:
    """Message data from the wire to `sink`, in chunks of any size: transparency dots removed
    (RFC 5321 §4.5.2) and the end found at CRLF.CRLF, without ever holding a line in memory.

    A line that follows a bare LF (a file sent as it is with smtplib's `sendmail`) is not a line
    to SMTP, but its sender doubled a leading dot all the same; a doubled one is undone there."""

    def __init__(self, sink: IO[bytes], *, limit: int) -> None:
        self.sink = sink
        self.limit = limit
        self.size = 0
        self.too_much = False
        self._line_start = True
        self._after_crlf = True
        self._last_cr = False
        self._held = b""

    def feed(self, chunk: bytes) -> bytes | None:
        """Take the next bytes; None while the data goes on, else the bytes after the end."""
        buf = self._held + chunk if self._held else chunk
        self._held = b""
        view = memoryview(buf)
        i, n = 0, len(buf)
        while i < n:
            if self._line_start:
                if buf[i] == _DOT:
                    if self._after_crlf:
                        head = buf[i:i + 3]
                        if head == b".\r\n":
                            return buf[i + 3:]
                        if len(head) < 3 and b".\r\n".startswith(head):
                            self._held = head
                            return None
                        i += 1
                        self._last_cr = False
                    else:
                        if i + 1 >= n:
                            self._held = buf[i:]
                            return None
                        if buf[i + 1] == _DOT:
                            i += 1
                self._line_start = False
                continue
            found = buf.find(b"\n.", i)
            if found < 0:
                self._write(view[i:n])
                if buf[n - 1] == _LF:
                    self._line_start = True
                    self._after_crlf = buf[n - 2] == _CR if n - 1 > i else self._last_cr
                    self._last_cr = False
                else:
                    self._last_cr = buf[n - 1] == _CR
                return None
            self._write(view[i:found + 1])
            self._after_crlf = buf[found - 1] == _CR if found > i else self._last_cr
            self._last_cr = False
            self._line_start = True
            i = found + 1
        return None

    def _write(self, part: memoryview) -> None:
        if self.too_much:
            return
        self.size += len(part)
        if self.size > self.limit:
            self.too_much = True
            self.sink.seek(0)
            self.sink.truncate()
            return
        self.sink.write(part)


class SpooledEnvelope(Envelope):
    def __init__(self) -> None:
        super().__init__()
        self.spool: IO[bytes] | None = None
        self.size = 0


class DeskhandSMTP(SMTP):
    # Commands are read as lines of at most RFC 5321's length; message data never as lines.
    line_length_limit = 1001

    def __init__(self, handler: Any, *, gate: SessionGate, spool_dir: Path, data_timeout: float = DATA_TIMEOUT,
                 **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.gate = gate
        self.spool_dir = spool_dir
        self.data_timeout = data_timeout
        self._client: str | None = None

    def _create_envelope(self) -> SpooledEnvelope:
        return SpooledEnvelope()

    async def _handle_client(self) -> None:
        assert self.session is not None
        peer = self.session.peer
        client = str(peer[0]) if isinstance(peer, tuple) and peer else str(peer)
        if not self.gate.admit(client):
            log.warning("smtp: refused a session from %s: too many connections", client)
            await self.push(TOO_MANY)
            if self.transport is not None:
                self.transport.close()
            return
        self._client = client
        await super()._handle_client()

    def connection_lost(self, error: Exception | None) -> None:
        if self._client is not None:
            self.gate.release(self._client)
            self._client = None
        super().connection_lost(error)

    def _timeout_cb(self) -> None:
        assert self.session is not None
        log.info("smtp: %r timed out", self.session.peer)
        transport = self.transport
        if transport is not None:
            if isinstance(transport, asyncio.WriteTransport) and not transport.is_closing():
                transport.write(f"{TIMED_OUT}\r\n".encode())
            transport.close()

    def _pause_timeout(self) -> None:
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 - aiosmtpd's name
        """aiosmtpd's DATA, reading chunks instead of lines and spooling them (see DataStream)."""
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None and isinstance(self.envelope, SpooledEnvelope)
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        self._reset_timeout(self.data_timeout)  # one deadline for the whole data
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, dir=str(self.spool_dir)) as spool:
            stream = DataStream(spool, limit=self.data_size_limit or MAX_RAW_BYTES)
            while True:
                chunk = await self._reader.read(READ_CHUNK)
                if not chunk:  # the client went away
                    self.envelope = self._create_envelope()
                    return
                rest = stream.feed(chunk)
                if rest is not None:
                    if rest:  # pipelined commands after the data: put them back for the command loop
                        self._reader._buffer[0:0] = rest  # type: ignore[attr-defined]
                    break
            if stream.too_much:
                self.envelope = self._create_envelope()
                self._reset_timeout()
                await self.push("552 5.3.4 Error: Too much mail data")
                return
            self.envelope.spool = spool
            self.envelope.size = stream.size
            self._pause_timeout()  # storing is our part: no client deadline runs meanwhile
            try:
                status = await self._call_handler_hook("DATA")
            finally:
                self.envelope.spool = None
                self.envelope = self._create_envelope()
                self._reset_timeout()
        await self.push(status)


class Listener(Controller):
    def __init__(self, handler: InboundHandler, *, gate: SessionGate, spool_dir: Path, reuse_port: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.gate = gate
        self.spool_dir = spool_dir
        self.reuse_port = reuse_port

    def _create_server(self) -> Any:
        # With `reuse_port`, several `deskhand smtpd` processes listen on one address and the kernel
        # spreads the connections among them.
        return self.loop.create_server(self._factory_invoker, host=self.hostname, port=self.port,
                                       ssl=self.ssl_context, reuse_port=self.reuse_port or None)

    def _trigger_server(self) -> None:
        if self.reuse_port:
            # aiosmtpd checks its factory through a connection to itself, which another listener on
            # the port may answer: call it on the listener's loop instead (the session it makes
            # is never connected).
            self.loop.call_soon_threadsafe(self._factory_invoker)
            return
        super()._trigger_server()  # type: ignore[no-untyped-call]

    def factory(self) -> SMTP:
        return DeskhandSMTP(self.handler, gate=self.gate, spool_dir=self.spool_dir, **self.SMTP_kwargs)

    def is_alive(self) -> bool:
        """The event loop's thread and the thread that stores the mail both run."""
        handler = self.handler
        store_alive = not isinstance(handler, InboundHandler) or handler.store.is_alive()
        return bool(self._thread and self._thread.is_alive()) and store_alive

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert=no_assert)
        handler = self.handler
        if isinstance(handler, InboundHandler):
            handler.close()


@dataclass(eq=False)
class _Store:
    mail: SpooledMail
    loop: asyncio.AbstractEventLoop
    answer: asyncio.Future[int | str]


class GroupStore(threading.Thread):
    """Stores every mail the listener accepts, on one thread with one database connection: the
    mails that arrive while a group is being written are written next, together, in one
    transaction (group commit). Under a flood, a commit serves a whole group of senders instead
    of one; a lone mail is written at once.

    The database gets `STORE_LOCK_WAIT` to take a group. When it cannot (SQLite's write lock is
    held by the worker filing a batch, or the database is away), the group goes to the journal
    (deskhand/ingest/journal.py), durably, and the `JournalMover` puts it into the database
    later: accepting mail never waits on filing it."""

    def __init__(self, *, journal: Path, max_group: int = STORE_GROUP, max_bytes: int = STORE_GROUP_BYTES) -> None:
        super().__init__(name="smtp-store", daemon=True)
        self.journal = journal
        self.max_group = max_group
        self.max_bytes = max_bytes
        self.waiting: queue.SimpleQueue[_Store | None] = queue.SimpleQueue()
        self.mover = JournalMover(journal)

    def store(self, mail: SpooledMail) -> asyncio.Future[int | str]:
        """The mail's inbound id (or journal key) once it is stored (from the listener's event loop)."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[int | str] = loop.create_future()
        self.waiting.put(_Store(mail, loop, answer))
        return answer

    def run(self) -> None:
        self.mover.start()
        connection = connections["default"]
        if hasattr(connection, "begin_timeout"):
            connection.begin_timeout = STORE_LOCK_WAIT
        held: _Store | None = None
        while True:
            first = held or self.waiting.get()
            held = None
            if first is None:
                break
            group, size = [first], first.mail.size
            stopping = False
            while len(group) < self.max_group:
                try:
                    nxt = self.waiting.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stopping = True
                    break
                if size + nxt.mail.size > self.max_bytes:  # the next group's first (a large mail: alone)
                    held = nxt
                    break
                group.append(nxt)
                size += nxt.mail.size
            try:
                self._write(group)
            except Exception as exc:  # noqa: BLE001 - never leave a sender waiting on a dead thread
                log.exception("smtp: storing a group of %s mails failed", len(group))
                for request in group:
                    _answer(request, exc)
            if stopping:
                break
        self.mover.stop()
        connections.close_all()

    def _write(self, group: list[_Store]) -> None:
        results: dict[int, int | str | BaseException] = {}
        for n, request in enumerate(group):
            if request.answer.done() or request.mail.spool.closed:  # the client went away: nothing to keep
                results[n] = ConnectionAbortedError("the client went away")
                continue
            try:
                check_spooled(request.mail)
            except DomainError as exc:
                results[n] = exc
        todo = [n for n in range(len(group)) if n not in results]
        mails = [group[n].mail for n in todo]
        if mails:
            try:
                close_old_connections()
                stored: list[int | str | BaseException] = list(store_mails(mails))
            except (OperationalError, InterfaceError) as exc:  # busy or away: the journal keeps them
                log.info("smtp: journaling %s mails (%s)", len(mails), exc)
                try:
                    stored = list(append(self.journal, mails))
                    self.mover.wake.set()
                except Exception as journal_exc:  # noqa: BLE001 - nowhere to keep them: the senders try again
                    log.exception("smtp: could not journal %s mails", len(mails))
                    stored = [journal_exc] * len(mails)
            except Exception as exc:  # noqa: BLE001 - each mail alone, so that one bad file fails only itself
                if len(group) > 1:
                    for request in group:
                        self._write([request])
                    return
                stored = [exc]
            results.update(zip(todo, stored, strict=True))
        for n, request in enumerate(group):
            _answer(request, results[n])

    def stop(self) -> None:
        self.waiting.put(None)
        self.join(timeout=30)


class JournalMover(threading.Thread):
    """Puts journaled mail into the database, oldest file first, then deletes the file; a file
    that cannot be read is moved aside to `journal/broken` and logged, never dropped."""

    def __init__(self, journal: Path, *, every: float = 1.0) -> None:
        super().__init__(name="smtp-journal", daemon=True)
        self.journal = journal
        self.every = every
        self.wake = threading.Event()
        self.stopped = threading.Event()

    def run(self) -> None:
        self.wake.set()  # what an earlier run left behind first
        while not self.stopped.is_set():
            self.wake.wait(self.every)
            self.wake.clear()
            try:
                close_old_connections()
                self.move_all()
            except Exception:  # noqa: BLE001 - the database may be away: the next round tries again
                log.exception("smtp: could not move journaled mail into the database")
                self.stopped.wait(self.every)
        connections.close_all()

    def move_all(self) -> int:
        moved = 0
        for part in self.journal.glob(".*.part"):  # a write a crash cut short: never answered 250
            if part.stat().st_mtime < time.time() - ABANDONED_PART:
                part.unlink(missing_ok=True)
        files = pending_files(self.journal)
        while files and not self.stopped.is_set():
            batch = self._take(files)
            try:
                moved += self._commit(batch)
            except (OperationalError, InterfaceError):
                raise  # the database is busy or away: the next round tries again
            except Exception:  # noqa: BLE001 - something in one file: each alone, the bad one put aside
                for path in batch:
                    try:
                        moved += self._commit([path])
                    except (OperationalError, InterfaceError):
                        raise
                    except Exception as exc:  # noqa: BLE001 - kept aside, never dropped, and the rest go on
                        self._put_aside(path, exc)
        return moved

    def _take(self, files: list[Path]) -> list[Path]:
        """The first files of `files` (taken off the list), up to `MOVE_BYTES` and `STORE_GROUP` mails."""
        taken: list[Path] = []
        size = 0
        while files and (not taken or (size < MOVE_BYTES and len(taken) < STORE_GROUP)):
            path = files.pop(0)
            taken.append(path)
            try:
                size += path.stat().st_size
            except OSError:
                continue
        return taken

    def _commit(self, paths: list[Path]) -> int:
        """Put the mails of these journal files into the database in one transaction, then delete
        the files. A file that is not a journal file is put aside at once."""
        with ExitStack() as stack:
            taken: list[Path] = []
            entries: list[tuple[str, SpooledMail]] = []
            for path in paths:
                try:
                    entries += stack.enter_context(read_file(path))
                except Taken:  # another listener on this data directory is moving it
                    continue
                except (JournalError, ValueError, OSError) as exc:
                    self._put_aside(path, exc)
                    continue
                taken.append(path)
            if entries:
                _durable_commits()
                receive_files([mail for _, mail in entries], transport=Transport.SMTP, keys=[key for key, _ in entries])
            for path in taken:  # still locked: no other listener reads a file that is done
                path.unlink()
        return len(taken)

    def _put_aside(self, path: Path, exc: BaseException) -> None:
        log.error("smtp: journal file %s cannot be moved into the database (%s); kept in journal/broken",
                  path.name, exc)
        broken = self.journal / "broken"
        broken.mkdir(mode=0o700, exist_ok=True)
        path.rename(broken / path.name)

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()
        self.join(timeout=30)


def store_mails(mails: list[SpooledMail]) -> list[int]:
    _durable_commits()
    return receive_files(mails, transport=Transport.SMTP)


def _durable_commits() -> None:
    """A mail answered 250 (or a journal file about to be deleted) must survive a power cut, not
    only a crash: on SQLite this connection's commits wait for the disk (`synchronous=FULL`; WAL
    with NORMAL, the setting for everything else, may lose the last commits). PostgreSQL's
    commits are durable as configured."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = FULL")


def clean_envelope(value: str) -> str:
    """An envelope address as text that can be stored: aiosmtpd keeps undecodable bytes as
    surrogates, which no database (and no UTF-8 file) takes."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _answer(request: _Store, result: int | str | BaseException) -> None:
    with suppress(RuntimeError):  # the listener's loop is closed (stopping): the sender will try again
        request.loop.call_soon_threadsafe(_settle, request.answer, result)


def _settle(answer: asyncio.Future[int | str], result: int | str | BaseException) -> None:
    if answer.done():  # the client went away meanwhile
        return
    if isinstance(result, BaseException):
        answer.set_exception(result)
    else:
        answer.set_result(result)


class InboundHandler:
    def __init__(self, *, journal: Path, lookup_threads: int = 2) -> None:
        # The ORM is synchronous: recipient lookups run on a small thread pool and stores on the
        # group store's thread, each with its own database connection, while the event loop goes
        # on talking SMTP to other clients.
        self.threads = lookup_threads
        self.executor = ThreadPoolExecutor(max_workers=lookup_threads, thread_name_prefix="smtp-lookup")
        self.store = GroupStore(journal=journal)
        self.store.start()

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        # aiosmtpd reads commands from a buffer in order, so a pipelining client is served as is.
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        # The configured support addresses are known without the database (most mail is for them).
        if not is_support_address(address):
            loop = asyncio.get_running_loop()
            try:
                known = await loop.run_in_executor(self.executor, self._is_ticket_address, address)
            except Exception:  # noqa: BLE001 - the database is away: the sender tries again later
                log.exception("smtp: could not look up the recipient %s", address)
                return "451 4.3.0 Could not check the recipient; please try again later"
            if not known:
                return f"550 5.1.1 <{address}>: no such ticket address"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        assert isinstance(envelope, SpooledEnvelope) and envelope.spool is not None
        mail = SpooledMail(envelope.spool, envelope.size, clean_envelope(envelope.mail_from or "")[:998],
                           tuple(clean_envelope(address)[:254] for address in envelope.rcpt_tos))
        try:
            inbound_id = await self.store.store(mail)
        except DomainError as exc:
            log.warning("smtp: refused a mail from %s: %s", envelope.mail_from, exc.message)
            return f"554 5.6.0 {exc.message}"
        except Exception:  # noqa: BLE001 - the sender must keep the mail and try again
            log.exception("smtp: could not store a mail from %s", envelope.mail_from)
            return "451 4.3.0 Could not store the message; please try again later"
        return f"250 2.0.0 Message accepted as {inbound_id}"

    @staticmethod
    def _is_ticket_address(address: str) -> bool:
        close_old_connections()
        return is_ticket_address(address)

    def close(self) -> None:
        """Stop the threads, each closing its database connection first (PostgreSQL counts them)."""
        self.store.stop()
        barrier = threading.Barrier(self.threads)

        def close_connections() -> None:
            barrier.wait(timeout=10)  # one task per thread: none takes two
            connections.close_all()

        for _ in range(self.threads):
            self.executor.submit(close_connections)
        self.executor.shutdown(wait=True)


def start_listener(
    host: str,
    port: int,
    *,
    tls: ssl.SSLContext | None | bool = True,
    max_sessions: int = MAX_SESSIONS,
    per_client: int = MAX_SESSIONS_PER_CLIENT,
    command_timeout: float = COMMAND_TIMEOUT,
    data_timeout: float = DATA_TIMEOUT,
    spool_dir: Path | None = None,
    journal: Path | None = None,
    size_limit: int = MAX_RAW_BYTES,
    reuse_port: bool = False,
    **kwargs: Any,
) -> Listener:
    """Start the listener on its own thread and event loop; `stop()` the result to end it.
    `tls=True` is STARTTLS with the configured (or self-signed) certificate, False none."""
    from deskhand.ingest.smtp_tls import tls_context

    context = tls_context() if tls is True else (tls or None)
    spool = spool_dir or Path(conf.data_dir) / "spool"
    spool.mkdir(mode=0o700, parents=True, exist_ok=True)
    handler = InboundHandler(journal=journal or journal_dir(Path(conf.data_dir)))
    controller = Listener(
        handler, gate=SessionGate(max_sessions=max_sessions, per_client=per_client), spool_dir=spool,
        reuse_port=reuse_port,
        hostname=host, port=port, ready_timeout=10, data_size_limit=size_limit, enable_SMTPUTF8=True,
        decode_data=False, ident="Deskhand ESMTP", tls_context=context, timeout=command_timeout,
        data_timeout=data_timeout, **kwargs,
    )
    controller.start()
    return controller
