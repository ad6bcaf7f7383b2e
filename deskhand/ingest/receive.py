"""Every transport does one thing: store the raw bytes as an inbound record, then ask for
processing after commit. Nothing is parsed or decided here, so nothing here can lose a mail."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO

from django.db import connection, transaction

from deskhand.audit.services import record
from deskhand.core.actors import Actor
from deskhand.core.bulk import insert_rows
from deskhand.core.commit import after_commit
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.ingest.drain import notify
from deskhand.ingest.tasks import TASK_BATCH, process_inbound
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
    _check_size(len(raw))
    if transport not in Transport.values:
        raise Invalid("invalid_transport", "Unknown transport.", field="transport")
    with transaction.atomic():
        inbound = InboundEmail.objects.create(
            size=len(raw), transport=transport, mailbox=mailbox, envelope_from=_sender(envelope_from),
            envelope_to=_envelope_to(envelope_to),
        )
        InboundRaw.objects.create(inbound=inbound, data=bytes(raw))
        if process:
            after_commit(_process_after_commit, inbound.pk)
    return inbound


BLOB_CHUNK = 1024 * 1024
# A spooled mail up to this size is read into memory and inserted with the others of its group in
# one statement; a larger one is streamed into its row (SQLite) or inserted on its own.
READ_WHOLE = 1024 * 1024


@dataclass(frozen=True)
class SpooledMail:
    """A mail the SMTP listener has read to a file: the file (rewound here), its size and the
    envelope."""

    spool: IO[bytes]
    size: int
    envelope_from: str | None = None
    envelope_to: tuple[str, ...] = ()


def _check_size(size: int) -> None:
    """The size rule every stored mail follows, whatever brought it."""
    if size <= 0:
        raise Invalid("empty_mail", "The mail has no content.", field="body")
    if size > MAX_RAW_BYTES:
        raise Invalid("mail_too_large", f"A mail has at most {MAX_RAW_BYTES // (1024 * 1024)} MB.", field="body")


def check_spooled(mail: SpooledMail) -> None:
    """`_check_size` for a spooled mail (raises Invalid)."""
    _check_size(mail.size)


def receive_files(mails: Sequence[SpooledMail], *, transport: str, keys: Sequence[str] = ()) -> list[int]:
    """Store a group of spooled mails in one transaction and return their ids, in order: the
    listener's group commit (one commit, one disk flush, for every mail that arrived while the
    last group was written). A small mail is read and inserted with the others in one statement;
    a larger one, on SQLite, is given a row with room for it and streamed in (incremental blob
    I/O), so it is never whole in memory. PostgreSQL's driver needs the bytes whole."""
    if transport not in Transport.values:
        raise Invalid("invalid_transport", "Unknown transport.", field="transport")
    for mail in mails:
        check_spooled(mail)
    streams = connection.vendor == "sqlite"
    with transaction.atomic():
        if keys:  # journaled mail: what a first move committed is not added again
            done = set(InboundEmail.objects.filter(journal_key__in=list(keys)).values_list("journal_key", flat=True))
            kept = [(mail, key) for mail, key in zip(mails, keys, strict=True) if key not in done]
            mails, keys = [mail for mail, _ in kept], [key for _, key in kept]
        if not mails:
            return []
        rows = InboundEmail.objects.bulk_create([InboundEmail(
            size=mail.size, transport=transport, envelope_from=_sender(mail.envelope_from),
            envelope_to=_envelope_to(mail.envelope_to), journal_key=key)
            for mail, key in zip(mails, keys or [""] * len(mails), strict=True)])
        whole = []
        for row, mail in zip(rows, mails, strict=True):
            if streams and mail.size > READ_WHOLE:
                _stream_into(row.pk, mail)
            else:
                mail.spool.seek(0)
                whole.append((row.pk, mail.spool.read()))
        insert_rows(InboundRaw, ("inbound", "data"), whole)
        ids = [int(row.pk) for row in rows]
        after_commit(_process_after_commit, *ids)
    return ids


def _sender(envelope_from: str | None) -> str:
    return ("" if envelope_from is None else (envelope_from.strip() or "<>"))[:998]


def _stream_into(inbound_id: int, mail: SpooledMail) -> None:
    table = InboundRaw._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{table}" ("inbound_id", "data") VALUES (%s, zeroblob(%s))', [inbound_id, mail.size])
        rowid = cursor.lastrowid  # the blob is addressed by rowid, which is not the key
    mail.spool.seek(0)
    raw_connection = connection.connection
    assert raw_connection is not None
    with raw_connection.blobopen(table, "data", rowid) as blob:
        while chunk := mail.spool.read(BLOB_CHUNK):
            blob.write(chunk)


def _process_after_commit(*inbound_ids: int) -> None:
    if notify():
        return
    # No drainer in this process: workers take tasks, each filing a batch of what is waiting.
    for first in inbound_ids[::TASK_BATCH]:
        process_inbound.enqueue(inbound_id=first)


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
        after_commit(_process_after_commit, inbound.pk)
    return inbound
