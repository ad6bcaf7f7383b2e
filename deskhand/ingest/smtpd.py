"""The built-in SMTP listener (aiosmtpd): it stores the raw mail and only then answers 250. If
the mail cannot be stored it answers 451, so the sending server keeps it and tries again.

Point an MX record or a forward at it. It runs inside `deskhand serve`, or alone
(`deskhand smtpd`) on a separate MX host that shares the database.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import close_old_connections

from deskhand.core.errors import DomainError
from deskhand.ingest.receive import MAX_RAW_BYTES, receive_raw
from deskhand.mail.models import Transport

log = logging.getLogger("deskhand.smtpd")

MAX_RECIPIENTS = 100


class LenientSMTP(SMTP):
    """Mail whose lines end in a bare LF (a file sent as it is with smtplib's `sendmail`, some
    scripts and appliances) is one endless "line" to a strict server, which refuses it as too
    long. We take it: the size limit still holds, and the parser reads LF and CRLF alike."""

    line_length_limit = MAX_RAW_BYTES


class Listener(Controller):
    def factory(self) -> SMTP:
        return LenientSMTP(self.handler, **self.SMTP_kwargs)


class InboundHandler:
    def __init__(self, *, store_threads: int = 4) -> None:
        # The ORM is synchronous: stores run on a small thread pool, each thread with its own
        # database connection, while the event loop goes on talking SMTP to other clients.
        self.executor = ThreadPoolExecutor(max_workers=store_threads, thread_name_prefix="smtp-store")

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if b"\r\n" not in raw[:-2]:
            # Bare-LF mail: the sender doubled dots at the start of each line, but only lines
            # ended by CRLF were undone by the protocol; undo the rest.
            raw = raw.replace(b"\n..", b"\n.")
        loop = asyncio.get_running_loop()
        try:
            inbound_id = await loop.run_in_executor(
                self.executor, self._store, bytes(raw), envelope.mail_from or "", list(envelope.rcpt_tos))
        except DomainError as exc:
            log.warning("smtp: refused a mail from %s: %s", envelope.mail_from, exc.message)
            return f"554 5.6.0 {exc.message}"
        except Exception:  # noqa: BLE001 - the sender must keep the mail and try again
            log.exception("smtp: could not store a mail from %s", envelope.mail_from)
            return "451 4.3.0 Could not store the message; please try again later"
        return f"250 2.0.0 Message accepted as {inbound_id}"

    @staticmethod
    def _store(raw: bytes, mail_from: str, rcpt_tos: list[str]) -> int:
        close_old_connections()
        inbound = receive_raw(raw, transport=Transport.SMTP, envelope_from=mail_from, envelope_to=rcpt_tos)
        return inbound.pk

    def close(self) -> None:
        self.executor.shutdown(wait=True)


def start_listener(host: str, port: int, **kwargs: Any) -> Listener:
    """Start the listener on its own thread and event loop; `stop()` the result to end it."""
    handler = InboundHandler()
    controller = Listener(
        handler, hostname=host, port=port, ready_timeout=10, data_size_limit=MAX_RAW_BYTES,
        enable_SMTPUTF8=True, decode_data=False, ident="Deskhand ESMTP", **kwargs,
    )
    controller.start()
    return controller
