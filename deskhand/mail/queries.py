"""Reads of the mail records: ticket addresses, the never-follow list, the inbound log, threads."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext

from deskhand.agents.models import Agent
from deskhand.conf import conf
from deskhand.config.queries import get_setting
from deskhand.core.emailaddr import AddressError, normalize_domain
from deskhand.core.errors import Invalid, NotFound
from deskhand.mail.models import (
    EarlyReply,
    ForwardedArrival,
    ForwardingConfirmation,
    ForwardingTest,
    InboundEmail,
    InboundRaw,
    InboundStatus,
    Mailbox,
    NeverFollow,
    OutboundMessage,
    OutboundStatus,
)


def mailbox_list() -> QuerySet[Mailbox]:
    return Mailbox.objects.order_by("address")


def get_mailbox(mailbox_id: int) -> Mailbox:
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound("mailbox_not_found", gettext("There is no such mailbox."))
    return mailbox


def never_follow_list() -> QuerySet[NeverFollow]:
    return NeverFollow.objects.select_related("mailbox").order_by("address")


def get_never_follow(entry_id: int) -> NeverFollow:
    entry = NeverFollow.objects.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound("never_follow_not_found", gettext("That address is not on the list."))
    return entry


def is_support_address(address: str) -> bool:
    """Whether `address` is one of DESKHAND_SUPPORT_ADDRESSES (no database read)."""
    key = address.strip().strip("<>").strip().lower()
    return bool(key) and key in (own.lower() for own in conf.support_address_list)


def is_ticket_address(address: str) -> bool:
    """Whether the SMTP listener takes mail for `address`: a ticket address (a mailbox, or one of
    DESKHAND_SUPPORT_ADDRESSES), or any address at a catch-all domain (`smtp_catch_all_domains`).
    Compared case-insensitively; read fresh each time, so a new mailbox takes mail at once."""
    address = address.strip().strip("<>").strip()
    if not address or len(address) > 254:
        return False
    if is_support_address(address):
        return True
    if Mailbox.objects.filter(address__iexact=address).exists():
        return True
    local, at, domain = address.rpartition("@")
    if not (local and at and domain):
        return False
    catch_all = get_setting("smtp_catch_all_domains")
    if not catch_all:
        return False
    try:
        return normalize_domain(domain) in catch_all
    except AddressError:
        return False


@dataclass(frozen=True)
class MailAddresses:
    """Our own addresses, read once per batch of mail."""

    mailboxes: dict[str, Mailbox]  # lower-cased address → mailbox
    never_follow: frozenset[str]
    agents: dict[str, int]  # lower-cased address of an active agent → agent id

    @property
    def own(self) -> frozenset[str]:
        return frozenset(self.mailboxes)

    def mailbox_for(self, addresses: Iterable[str]) -> Mailbox | None:
        for address in addresses:
            mailbox = self.mailboxes.get(address.lower())
            if mailbox is not None:
                return mailbox
        return None


def mail_addresses() -> MailAddresses:
    # Without the IMAP password: filing mail needs none (and goes on where the mailbox key is missing).
    mailboxes = {mailbox.address.lower(): mailbox for mailbox in Mailbox.objects.defer("imap_password")}
    never = frozenset(address.lower() for address in NeverFollow.objects.values_list("address", flat=True))
    agents = {email.lower(): pk for pk, email in Agent.objects.filter(is_active=True).values_list("pk", "email")}
    return MailAddresses(mailboxes=mailboxes, never_follow=never | frozenset(mailboxes), agents=agents)


def inbound_list(*, status: str | None = None) -> QuerySet[InboundEmail]:
    rows = InboundEmail.objects.select_related("mailbox").order_by("-id")
    if status:
        if status not in InboundStatus.values:
            raise Invalid("invalid_status", gettext("status is received, processed, ignored or failed."), field="status")
        rows = rows.filter(status=status)
    return rows


def get_inbound(inbound_id: int) -> InboundEmail:
    inbound = InboundEmail.objects.filter(pk=inbound_id).first()
    if inbound is None:
        raise NotFound("inbound_not_found", gettext("There is no such inbound mail."))
    return inbound


def inbound_for_messages(message_ids: Iterable[int]) -> dict[int, InboundEmail]:
    """The mail each conversation message came from (for "view original"), without raw bytes."""
    rows = InboundEmail.objects.filter(message_id__in=list(message_ids))
    return {row.message_id: row for row in rows if row.message_id is not None}


def items_by_message_id(message_ids: Iterable[str]) -> dict[str, int]:
    """The item of each of these Message-IDs that we received or sent (received first), for a
    batch of mail in two queries."""
    wanted = sorted(set(message_ids))
    found: dict[str, int] = {}
    for model in (InboundEmail, OutboundMessage):
        for start in range(0, len(wanted), 500):
            for rfc_id, item_id in model.objects.filter(
                    rfc_message_id__in=wanted[start:start + 500], item__isnull=False,
            ).order_by("id").values_list("rfc_message_id", "item_id"):
                found.setdefault(rfc_id, item_id)
    return found


def early_replies(message_ids: Iterable[str], *, since: datetime) -> dict[str, list[int]]:
    """For each of these Message-IDs, the tickets that replies to it opened since `since` because
    they arrived before it (`EarlyReply`), oldest first."""
    wanted = sorted(set(message_ids))
    found: dict[str, list[int]] = {}
    for start in range(0, len(wanted), 500):
        for rfc_id, item_id in EarlyReply.objects.filter(
                awaits__in=wanted[start:start + 500], created_at__gte=since).order_by("id").values_list("awaits", "item_id"):
            if item_id not in found.setdefault(rfc_id, []):
                found[rfc_id].append(item_id)
    return found


def failed_outbound(limit: int = 20) -> list[OutboundMessage]:
    """The newest outbound mail that could not be delivered, for Administration → Email."""
    return list(OutboundMessage.objects.filter(status=OutboundStatus.FAILED)
                .defer("body_text", "body_html", "headers").order_by("-id")[:limit])


def undelivered_for_messages(message_ids: Iterable[int]) -> dict[int, list[OutboundMessage]]:
    """Failed outbound mail per conversation message (a reply that bounced), in one query."""
    found: dict[int, list[OutboundMessage]] = {}
    for row in (OutboundMessage.objects.filter(message_id__in=list(message_ids), status=OutboundStatus.FAILED)
                .only("message_id", "kind", "to", "last_error").order_by("id")):
        if row.message_id is not None:
            found.setdefault(row.message_id, []).append(row)
    return found


class _PieceReader(io.RawIOBase):
    """A read-only file over `fetch(offset, count)`, for a buffered reader to sit on."""

    def __init__(self, fetch: Callable[[int, int], bytes]) -> None:
        self.fetch = fetch
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # typeshed's is Buffer
        data = self.fetch(self.position, len(buffer))
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)


RAW_PIECE = 4 * 1024 * 1024


@contextmanager
def open_raw(inbound_id: int) -> Iterator[IO[bytes]]:
    """The raw bytes of an inbound mail as a file, read from the database a piece at a time, so
    that a 100 MB mail is never in memory whole (SQLite's incremental blob I/O; PostgreSQL's
    `substring`). Valid inside the current transaction."""
    table = InboundRaw._meta.db_table
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # the blob is addressed by rowid, not by the key
            cursor.execute(f'SELECT "rowid" FROM "{table}" WHERE "inbound_id" = %s', [inbound_id])
            row = cursor.fetchone()
        if row is None:
            yield io.BytesIO(b"")
            return
        raw_connection = connection.connection
        assert raw_connection is not None
        with raw_connection.blobopen(table, "data", row[0], readonly=True) as blob:
            def read_blob(offset: int, count: int) -> bytes:
                blob.seek(offset)
                return bytes(blob.read(count))
            yield io.BufferedReader(_PieceReader(read_blob), RAW_PIECE)
        return
    with connection.cursor() as cursor:
        def read_rows(offset: int, count: int) -> bytes:
            cursor.execute(f'SELECT substring("data" from %s for %s) FROM "{table}" WHERE "inbound_id" = %s',
                           [offset + 1, count, inbound_id])
            row = cursor.fetchone()
            return bytes(row[0]) if row and row[0] is not None else b""
        yield io.BufferedReader(_PieceReader(read_rows), RAW_PIECE)


def spool_dir() -> str:
    """Where large mail is spooled while it is received or filed: private, in the data directory."""
    path = Path(conf.data_dir) / "spool"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return str(path)


def raw_bytes(inbound_id: int) -> bytes:
    """The whole raw mail (for small ones; a large one is read with `open_raw`)."""
    data = InboundRaw.objects.filter(pk=inbound_id).values_list("data", flat=True).first()
    return bytes(data) if data is not None else b""


def raw_head(inbound_id: int, limit: int) -> bytes:
    """The first `limit` bytes of the raw mail, without reading the rest."""
    with transaction.atomic(), open_raw(inbound_id) as source:
        return source.read(limit)


def raw_copy(inbound_id: int) -> IO[bytes]:
    """The raw mail copied into a temporary file in the data directory (rewound), for a download
    that must not hold a 100 MB mail in memory. The caller closes it."""
    target = tempfile.TemporaryFile(dir=spool_dir())  # noqa: SIM115 - handed to the caller
    try:
        with transaction.atomic(), open_raw(inbound_id) as source:
            shutil.copyfileobj(source, target, RAW_PIECE)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return target


# -- forwarding set-up -----------------------------------------------------------------------------

CONFIRMATIONS_SHOWN = 5


@dataclass(frozen=True)
class ForwardingStatus:
    """What Administration → Email says about forwarding: the declared address, the first mail
    that came through it, the last test mail (its outbox row and the mail it came back as) and the
    newest confirmation mails of Gmail or Microsoft."""

    address: str
    first_arrival: ForwardedArrival | None
    last_test: ForwardingTest | None
    test_outbound: OutboundMessage | None
    test_arrival: InboundEmail | None
    confirmations: list[ForwardingConfirmation]


def forwarding_status() -> ForwardingStatus:
    address = str(get_setting("forwarding_address"))
    first = ForwardedArrival.objects.filter(address=address.lower()).first() if address else None
    test = ForwardingTest.objects.select_related("outbound").order_by("-id").first()
    arrival = (InboundEmail.objects.filter(rfc_message_id=test.rfc_message_id).order_by("id").first()
               if test is not None and test.rfc_message_id else None)
    return ForwardingStatus(
        address=address, first_arrival=first, last_test=test, test_outbound=test.outbound if test else None,
        test_arrival=arrival, confirmations=list(ForwardingConfirmation.objects.order_by("-id")[:CONFIRMATIONS_SHOWN]))
