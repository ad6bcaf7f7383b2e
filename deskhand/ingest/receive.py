"""Every transport does one thing: store the raw bytes as an inbound record, then ask for
processing after commit. Nothing is parsed or decided here, so nothing here can lose a mail."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import IO

from django.db import connection, transaction

from deskhand.audit.services import record
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.ingest.drain import notify
from deskhand.ingest.tasks import process_inbound
from deskhand.mail.models import InboundEmail, InboundRaw, InboundStatus, Mailbox, Transport

# The largest mail any transport takes: room for a 50 MB file encoded in base64, so that an
# oversized attachment is kept as a failed mail with its reason (and the sender told) rather
# than refused at the door with nobody the wiser.
MAX_RAW_BYTES = 100 * 1024 * 1024


def _envelope_to(recipients: Iterable[str]) -> list[str]:
    return [recipient.strip()[:254] for recipient in recipients][:100]


def receive_raw(
    raw: bytes,
    *,
    transport: str,
    mailbox: Mailbox | None = None,
    envelope_from: str | None = None,
    envelope_to: Iterable[str] = (),
    process: bool = True,
) -> InboundEmail:
    """Store one raw mail durably. `envelope_from` is the SMTP MAIL FROM ("" or "<>" is the null
    sender of a bounce; None when the transport does not know it)."""
    if not isinstance(raw, bytes | bytearray | memoryview) or not raw:
        raise Invalid("empty_mail", "Send the raw message (message/rfc822) as the request body.", field="body")
    if len(raw) > MAX_RAW_BYTES:
        raise Invalid("mail_too_large", f"A mail has at most {MAX_RAW_BYTES // (1024 * 1024)} MB.", field="body")
    if transport not in Transport.values:
        raise Invalid("invalid_transport", "Unknown transport.", field="transport")
    sender = "" if envelope_from is None else (envelope_from.strip() or "<>")
    with transaction.atomic():
        inbound = InboundEmail.objects.create(
            size=len(raw), transport=transport, mailbox=mailbox, envelope_from=sender[:998],
            envelope_to=_envelope_to(envelope_to),
        )
        InboundRaw.objects.create(inbound=inbound, data=bytes(raw))
        if process:
            transaction.on_commit(partial(_process_after_commit, inbound.pk))
    return inbound


BLOB_CHUNK = 1024 * 1024


def receive_file(
    spool: IO[bytes],
    size: int,
    *,
    transport: str,
    envelope_from: str | None = None,
    envelope_to: Iterable[str] = (),
) -> InboundEmail:
    """`receive_raw` for a mail spooled to a file (the SMTP listener's), without a copy of it in
    memory where the database allows: on SQLite the row is written with room for the mail and
    the bytes are streamed into it (incremental blob I/O), in the same transaction. PostgreSQL's
    driver needs the bytes whole, so there the mail is read once and inserted as it is."""
    if connection.vendor != "sqlite" or not 0 < size <= MAX_RAW_BYTES:
        spool.seek(0)
        return receive_raw(spool.read(), transport=transport, envelope_from=envelope_from, envelope_to=envelope_to)
    sender = "" if envelope_from is None else (envelope_from.strip() or "<>")
    table = InboundRaw._meta.db_table
    with transaction.atomic():
        inbound = InboundEmail.objects.create(
            size=size, transport=transport, envelope_from=sender[:998], envelope_to=_envelope_to(envelope_to))
        with connection.cursor() as cursor:
            cursor.execute(f'INSERT INTO "{table}" ("inbound_id", "data") VALUES (%s, zeroblob(%s))', [inbound.pk, size])
            rowid = cursor.lastrowid  # the blob is addressed by rowid, which is not the key
        spool.seek(0)
        raw_connection = connection.connection
        assert raw_connection is not None
        with raw_connection.blobopen(table, "data", rowid) as blob:
            while chunk := spool.read(BLOB_CHUNK):
                blob.write(chunk)
        transaction.on_commit(partial(_process_after_commit, inbound.pk))
    return inbound


def _process_after_commit(inbound_id: int) -> None:
    if not notify():  # no drainer in this process: a worker takes the task
        process_inbound.enqueue(inbound_id=inbound_id)


@transaction.atomic
def retry(inbound: InboundEmail, *, actor: Actor) -> InboundEmail:
    """Put a failed (or ignored) mail back to be processed again, after a fix or a change of rules.
    Only an administrator may: the inbound log is part of the email settings."""
    if not actor.is_admin:
        raise Forbidden("admin_required", "Only an administrator can retry inbound mail.")
    if inbound.status == InboundStatus.PROCESSED:
        raise Conflict("already_processed", "This mail was processed; it made ticket or reply already.")
    updated = InboundEmail.objects.filter(pk=inbound.pk).exclude(status=InboundStatus.PROCESSED).update(
        status=InboundStatus.RECEIVED, reason="", processed_at=None)
    if updated:
        record(actor=actor, action="inbound.retried", object_type="inbound_email", object_id=inbound.pk,
               object_label=inbound.subject, changes={"status": {"old": inbound.status, "new": "received"}})
        inbound.status, inbound.reason, inbound.processed_at = InboundStatus.RECEIVED, "", None
        transaction.on_commit(partial(_process_after_commit, inbound.pk))
    return inbound
