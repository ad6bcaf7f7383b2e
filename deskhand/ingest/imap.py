"""IMAP mailboxes (imap-tools): fetch raw mail, store it, enqueue processing (transport only).

The poll is the guarantee, IDLE only makes it sooner. The scheduler polls each IMAP mailbox every
`poll_seconds`; `start_idle()` (run by `deskhand serve`) keeps one IDLE connection per mailbox and
asks for a poll as soon as the server announces new mail.

A poll takes the unread mail of the folder, oldest first, stores each raw message with
`receive_raw` (committed in its own transaction) and only then flags it \\Seen on the server. Mail
stays on the server; a mail that cannot be stored stays unread and is fetched again next time.
Stored-but-not-flagged (the connection dropped in between) is fetched twice; the pipeline drops
the second copy as a duplicate, so the order "store, then flag" can only duplicate, never lose.
"""

from __future__ import annotations

import imaplib
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from django.db import close_old_connections, connections, transaction
from django.utils import timezone
from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import (
    MailboxFetchError,
    MailboxFlagError,
    MailboxFolderSelectError,
    MailboxFolderStatusError,
    MailboxLoginError,
    MailboxStarttlsError,
    UnexpectedCommandStatusError,
)

from deskhand.core.tasks import task
from deskhand.ingest.receive import MAX_RAW_BYTES, receive_raw
from deskhand.mail.models import ImapSecurity, Mailbox, Transport
from deskhand.mail.services import record_poll

log = logging.getLogger("deskhand.imap")

# Seconds to wait for the server on any one read or write (the connection test and the poll).
CONNECT_TIMEOUT = 10.0
POLL_TIMEOUT = 60.0
# Unread mails taken per poll; when more wait, another poll follows at once.
MAX_PER_POLL = 200

_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


# -- connecting ------------------------------------------------------------------------------------


def _port(mailbox: Mailbox) -> int:
    return mailbox.imap_port or (993 if mailbox.imap_security == ImapSecurity.SSL else 143)


class SetupError(Exception):
    """A setting that cannot work, found before connecting."""


def _open(mailbox: Mailbox, timeout: float) -> BaseMailBox:
    host, port = mailbox.imap_host, _port(mailbox)
    # imaplib verifies nothing unless it is given a context: the default one checks the
    # certificate chain and the host name.
    if mailbox.imap_security == ImapSecurity.SSL:
        return MailBox(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
    if mailbox.imap_security == ImapSecurity.STARTTLS:
        if port == 993:
            raise SetupError("Port 993 is for SSL/TLS: choose the security SSL/TLS, or STARTTLS on port 143.")
        return MailBoxStartTls(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
    return MailBoxUnencrypted(host, port, timeout=timeout)


def _close(box: BaseMailBox) -> None:
    try:
        box.logout()
    except Exception:  # noqa: BLE001 - the connection may be gone already; only the socket is left
        with suppress(Exception):
            box.client.shutdown()


@contextmanager
def _session(mailbox: Mailbox, *, timeout: float, readonly: bool = False) -> Iterator[BaseMailBox]:
    """Connected, logged in, the mailbox's folder selected; logged out after."""
    box = _open(mailbox, timeout)
    try:
        username, password = mailbox.imap_username, mailbox.imap_password
        if (username + password).isascii():
            box.login(username, password, initial_folder=None)
        else:  # LOGIN is ASCII only; AUTHENTICATE PLAIN carries UTF-8
            box.login_utf8(username, password, initial_folder=None)
        box.folder.set(mailbox.imap_folder, readonly=readonly)
        yield box
    finally:
        _close(box)


def _server_text(exc: UnexpectedCommandStatusError) -> str:
    data = exc.command_result[1] if isinstance(exc.command_result, tuple) and len(exc.command_result) > 1 else []
    parts = data if isinstance(data, list) else [data]
    text = " ".join(part.decode("utf-8", "replace") if isinstance(part, bytes) else str(part)
                    for part in parts if part)
    text = re.sub(r"\s*\(\d+\.\d+ \+ \d+\.\d+( \+ \d+\.\d+)? secs\)", "", text)  # Dovecot's timings
    return text.strip().rstrip(".") or "no reason given"


def describe_error(exc: BaseException, mailbox: Mailbox, *, timeout: float = CONNECT_TIMEOUT) -> str:
    """What went wrong, in words an administrator can act on. Never contains the password."""
    where = f"{mailbox.imap_host}:{_port(mailbox)}"
    if isinstance(exc, SetupError):
        message = str(exc)
    elif isinstance(exc, MailboxLoginError):
        message = f"The server refused the user name or password ({_server_text(exc)})."
    elif isinstance(exc, MailboxFolderSelectError | MailboxFolderStatusError):
        message = f"The folder “{mailbox.imap_folder}” could not be opened ({_server_text(exc)})."
    elif isinstance(exc, MailboxStarttlsError) or (isinstance(exc, imaplib.IMAP4.error)
                                                   and "STARTTLS" in str(exc) and "not supported" in str(exc)):
        message = f"{where} does not offer STARTTLS: choose SSL/TLS (usually port 993) or no security."
    elif isinstance(exc, UnexpectedCommandStatusError):
        message = f"The server answered with an error ({_server_text(exc)})."
    elif isinstance(exc, ssl.SSLCertVerificationError):
        message = (f"The certificate of {mailbox.imap_host} could not be verified "
                   f"({exc.verify_message or exc.reason}): the server must present a valid certificate for this name.")
    elif isinstance(exc, ssl.SSLError):
        message = (f"The TLS handshake with {where} failed ({exc.reason or exc}): check the security setting "
                   f"(SSL/TLS is usually port 993, STARTTLS or none port 143).")
    elif isinstance(exc, socket.gaierror):
        message = f"The host name {mailbox.imap_host} could not be found: check it."
    elif isinstance(exc, ConnectionRefusedError):
        message = f"{where} refused the connection: check the port and that the IMAP server is running."
    elif isinstance(exc, TimeoutError):
        message = (f"{where} did not answer within {timeout:g} seconds: check the host, the port and the "
                   f"security setting.")
    elif isinstance(exc, imaplib.IMAP4.abort):
        message = f"The server closed the connection ({exc})."
    elif isinstance(exc, imaplib.IMAP4.error):
        message = f"The server answered with an error ({exc})."
    elif isinstance(exc, OSError):
        message = f"Could not talk to {where}: {exc.strerror or exc}."
    else:
        message = f"Unexpected error: {type(exc).__name__}: {exc}"
    return _without_password(message, mailbox)


def _without_password(text: str, mailbox: Mailbox) -> str:
    # Belt and braces: no server or library puts it in a message, and it must never be shown.
    password = mailbox.imap_password
    return text.replace(password, "•••") if len(password) >= 4 else text


# -- the connection test ---------------------------------------------------------------------------


def test_connection(mailbox: Mailbox, *, timeout: float = CONNECT_TIMEOUT) -> tuple[bool, str]:
    """Log in and open the folder (read-only): `(True, "Connected: …")` or `(False, what went wrong)`."""
    try:
        with _session(mailbox, timeout=timeout, readonly=True) as box:
            status = box.folder.status(mailbox.imap_folder, ["MESSAGES", "UNSEEN"])
    except Exception as exc:  # noqa: BLE001 - every failure is an answer here
        return False, describe_error(exc, mailbox, timeout=timeout)
    messages, unseen = status.get("MESSAGES", 0), status.get("UNSEEN", 0)
    return True, (f"Connected: {messages} message{'' if messages == 1 else 's'} in {mailbox.imap_folder}, "
                  f"{unseen} unread.")


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name


# -- polling ---------------------------------------------------------------------------------------


def due_mailboxes() -> list[int]:
    """IMAP mailboxes whose poll interval has passed since their last poll."""
    now = timezone.now()
    rows = Mailbox.objects.exclude(imap_host="").values_list("pk", "last_poll_at", "poll_seconds")
    return [pk for pk, last_poll_at, poll_seconds in rows
            if last_poll_at is None or (now - last_poll_at).total_seconds() >= poll_seconds]


@dataclass
class _Progress:
    stored: int = 0
    failed: list[str] = field(default_factory=list)
    too_large: int = 0
    more: bool = False


def _sizes(box: BaseMailBox, uids: list[str]) -> dict[str, int]:
    if not uids:
        return {}
    result = box.client.uid("FETCH", ",".join(uids), "(RFC822.SIZE)")
    if result[0] != "OK":
        raise MailboxFetchError(result, "OK")
    sizes = {}
    for line in result[1]:
        text = line[0] if isinstance(line, tuple) else line
        if isinstance(text, bytes) and (uid := _UID.search(text)) and (size := _SIZE.search(text)):
            sizes[uid.group(1).decode()] = int(size.group(1))
    return sizes


def _fetch_raw(box: BaseMailBox, uid: str) -> bytes | None:
    """The message exactly as the server holds it (BODY.PEEK leaves it unread)."""
    result = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if result[0] != "OK":
        raise MailboxFetchError(result, "OK")
    literals = [item for item in result[1] if isinstance(item, tuple)]
    for header, data in literals:
        if b"BODY[]" in header.upper():
            return bytes(data)
    return bytes(literals[0][1]) if literals else None  # None: expunged since the search


def _mark_seen(box: BaseMailBox, uid: str) -> None:
    # Not imap-tools' flag(): it expunges the folder afterwards, which would purge mail someone
    # else marked deleted in this account.
    result = box.client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
    if result[0] != "OK":
        raise MailboxFlagError(result, "OK")


def _fetch_new(mailbox: Mailbox, progress: _Progress) -> None:
    with _session(mailbox, timeout=POLL_TIMEOUT) as box:
        uids = box.uids("UNSEEN", charset=None)
        batch, progress.more = uids[:MAX_PER_POLL], len(uids) > MAX_PER_POLL
        sizes = _sizes(box, batch)
        for uid in batch:
            if sizes.get(uid, 0) > MAX_RAW_BYTES:
                progress.too_large += 1
                continue
            raw = _fetch_raw(box, uid)
            if raw is None:
                continue
            try:
                # Durable: committed when the block ends (an error if the poll ran inside someone
                # else's transaction), so \Seen below never marks a mail that could roll back.
                with transaction.atomic(durable=True):
                    receive_raw(raw, transport=Transport.IMAP, mailbox=mailbox)
            except Exception as exc:  # noqa: BLE001 - left unread: the next poll tries again
                log.exception("IMAP %s: could not store message UID %s", mailbox.address, uid)
                progress.failed.append(f"{type(exc).__name__}: {exc}")
                continue
            _mark_seen(box, uid)
            progress.stored += 1


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary(progress: _Progress, error: str = "") -> tuple[bool, str]:
    parts = [f"{_plural(progress.stored, 'new message')}" if progress.stored else "No new messages"]
    if progress.more:
        parts.append(f"more are waiting and follow at once (at most {MAX_PER_POLL} per poll)")
    if progress.failed:
        count = len(progress.failed)
        parts.append(f"{_plural(count, 'message')} could not be stored and {'stays' if count == 1 else 'stay'} "
                     f"unread on the server for the next poll ({progress.failed[-1]})")
    if progress.too_large:
        parts.append(f"{_plural(progress.too_large, 'message')} larger than {MAX_RAW_BYTES // (1024 * 1024)} MB "
                     f"left unread on the server")
    if error:
        return False, (f"{error} ({_plural(progress.stored, 'new message')} stored before that.)"
                       if progress.stored else error)
    return not (progress.failed or progress.too_large), "; ".join(parts) + "."


def _is_due(mailbox: Mailbox) -> bool:
    return (mailbox.last_poll_at is None
            or (timezone.now() - mailbox.last_poll_at).total_seconds() >= mailbox.poll_seconds)


@task()
def poll_mailbox(*, mailbox_id: int, force: bool = False) -> str:
    """Fetch the unread mail of one IMAP mailbox. Never raises for anything the server or the
    network does: the outcome is recorded on the mailbox (last poll) and returned.

    Unless `force`d (IDLE saw new mail, or more is waiting), a mailbox polled within its interval
    is skipped: the scheduler may have queued it again while the worker was busy."""
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None or not mailbox.is_imap:
        return "not an IMAP mailbox"
    if not force and not _is_due(mailbox):
        return "polled recently"
    progress = _Progress()
    try:
        _fetch_new(mailbox, progress)
    except Exception as exc:  # noqa: BLE001 - recorded for the administrator instead
        ok, message = _summary(progress, describe_error(exc, mailbox, timeout=POLL_TIMEOUT))
        if not isinstance(exc, OSError | imaplib.IMAP4.error | UnexpectedCommandStatusError | SetupError):
            log.exception("IMAP %s: poll failed", mailbox.address)
    else:
        ok, message = _summary(progress)
    message = _without_password(message, mailbox)
    if not ok:
        log.warning("IMAP %s: %s", mailbox.address, message)
    record_poll(mailbox, ok=ok, message=message)
    if ok and progress.more:
        poll_mailbox.enqueue(mailbox_id=mailbox.pk, force=True)
    return message


# -- IDLE ------------------------------------------------------------------------------------------

IDLE_SLICE = 1.0  # seconds between looks at the stop flag while idling
IDLE_RENEW = 10 * 60.0  # re-issue IDLE well within RFC 2177's 29 minutes
IDLE_RETRY = (5.0, 30.0, 60.0, 300.0, 900.0)  # back-off after failed connections
IDLE_REFRESH = 60.0  # how often the set of watched mailboxes follows the database


def _enqueue_poll(mailbox_id: int) -> None:
    poll_mailbox.enqueue(mailbox_id=mailbox_id, force=True)


def _account(mailbox: Mailbox) -> tuple[object, ...]:
    """What a watcher's connection depends on: a change restarts it."""
    return (mailbox.pk, mailbox.imap_host, mailbox.imap_port, mailbox.imap_security, mailbox.imap_username,
            mailbox.imap_password, mailbox.imap_folder)


class IdleWatcher(threading.Thread):
    """One IMAP connection in IDLE; calls `on_new_mail(mailbox_id)` when the server announces mail.
    Ends by itself if the server does not offer IDLE (the scheduled poll remains)."""

    def __init__(self, mailbox: Mailbox, on_new_mail: Callable[[int], None]) -> None:
        super().__init__(name=f"imap-idle-{mailbox.pk}", daemon=True)
        self.mailbox = mailbox
        self.on_new_mail = on_new_mail
        self.stopped = threading.Event()
        self.idling = threading.Event()  # set while an IDLE command is running (tests wait on it)
        self.unsupported = False

    def run(self) -> None:
        failures = 0
        try:
            while not self.stopped.is_set():
                try:
                    self._watch()
                    failures = 0
                except Exception as exc:  # noqa: BLE001 - reconnect after a pause, for as long as we run
                    delay = IDLE_RETRY[min(failures, len(IDLE_RETRY) - 1)]
                    failures += 1
                    log.info("IMAP IDLE %s: %s Retrying in %g s.", self.mailbox.address,
                             describe_error(exc, self.mailbox), delay)
                    self.idling.clear()
                    self.stopped.wait(delay)
                    continue
                if self.unsupported:
                    log.info("IMAP IDLE %s: the server does not offer IDLE; polling every %s s.",
                             self.mailbox.address, self.mailbox.poll_seconds)
                    return
        finally:
            self.idling.clear()
            connections.close_all()

    def _watch(self) -> None:
        with _session(self.mailbox, timeout=CONNECT_TIMEOUT, readonly=True) as box:
            result = box.client.capability()
            capabilities = b" ".join(part for part in result[1] if isinstance(part, bytes)).upper().split()
            if b"IDLE" not in capabilities:
                self.unsupported = True
                return
            while not self.stopped.is_set():
                box.idle.start()  # type: ignore[no-untyped-call]
                self.idling.set()
                renew_at = time.monotonic() + IDLE_RENEW
                while not self.stopped.is_set() and time.monotonic() < renew_at:
                    began = time.monotonic()
                    lines = box.idle.poll(timeout=IDLE_SLICE)
                    if any(line.startswith(b"* BYE") for line in lines):
                        raise imaplib.IMAP4.abort("the server ended the session")
                    if any(line.endswith(b"EXISTS") for line in lines):
                        self.on_new_mail(self.mailbox.pk)
                    elif not lines and time.monotonic() - began < IDLE_SLICE / 2:
                        # Readable, yet nothing to read: the server closed the connection.
                        raise imaplib.IMAP4.abort("the server closed the connection")
                self.idling.clear()
                box.idle.stop()  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        self.stopped.set()


class IdleWatchers(threading.Thread):
    """One IdleWatcher per IMAP mailbox, following the database (mailboxes added, changed or
    removed) every `refresh` seconds. Start with `start_idle()`, end with `.stop()`."""

    def __init__(self, *, on_new_mail: Callable[[int], None] = _enqueue_poll, refresh: float = IDLE_REFRESH) -> None:
        super().__init__(name="imap-idle", daemon=True)
        self.on_new_mail = on_new_mail
        self.refresh = refresh
        self.stopped = threading.Event()
        self.watchers: dict[int, tuple[tuple[object, ...], IdleWatcher]] = {}

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                try:
                    close_old_connections()
                    self.sync()
                except Exception:  # noqa: BLE001 - a failed round must not end IDLE for good
                    log.exception("IMAP IDLE: could not read the mailboxes")
                self.stopped.wait(self.refresh)
        finally:
            for _account_key, watcher in self.watchers.values():
                watcher.stop()
            connections.close_all()

    def sync(self) -> None:
        wanted = {mailbox.pk: mailbox for mailbox in Mailbox.objects.exclude(imap_host="")}
        for pk in list(self.watchers):
            key, watcher = self.watchers[pk]
            if pk not in wanted or _account(wanted[pk]) != key:
                watcher.stop()
                del self.watchers[pk]
        for pk, mailbox in wanted.items():
            if pk not in self.watchers:
                watcher = IdleWatcher(mailbox, self.on_new_mail)
                self.watchers[pk] = (_account(mailbox), watcher)
                watcher.start()

    def watcher(self, mailbox_id: int) -> IdleWatcher | None:
        entry = self.watchers.get(mailbox_id)
        return entry[1] if entry else None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every watcher (each leaves IDLE and logs out within about a second)."""
        self.stopped.set()
        self.join(timeout)
        for _account_key, watcher in list(self.watchers.values()):
            watcher.join(max(0.1, timeout / 2))


def start_idle(*, on_new_mail: Callable[[int], None] = _enqueue_poll, refresh: float = IDLE_REFRESH) -> IdleWatchers:
    """For `deskhand serve`, next to the scheduler: `idle = start_idle()` … `idle.stop()`."""
    watchers = IdleWatchers(on_new_mail=on_new_mail, refresh=refresh)
    watchers.start()
    return watchers
