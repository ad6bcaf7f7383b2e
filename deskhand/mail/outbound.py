"""The outbox: replies and notifications are rows written in the business transaction and
delivered by a task after commit (SMTP to EMAIL_URL, or kept in the outbox when there is none).

Every mail we send carries our own Message-ID (so an answer threads back), the thread's
In-Reply-To/References, the ticket token in the subject, a Reply-To of the ticket address and
our loop header; automatic mail also says `Auto-Submitted: auto-replied` (RFC 3834), and at most
`AUTO_REPLY_CAP` automatic mails go to one address a day, whatever loops a robot tries.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone, translation

from deskhand.conf import conf
from deskhand.config.queries import get_setting
from deskhand.core.bulk import update_rows
from deskhand.core.commit import after_commit
from deskhand.core.i18n import supported_language
from deskhand.core.tasks import task
from deskhand.customers.models import Customer
from deskhand.mail.loops import LOOP_HEADER
from deskhand.mail.models import InboundEmail, Mailbox, OutboundMessage, OutboundStatus

if TYPE_CHECKING:
    from deskhand.work.models import Attachment, Item, Message

log = logging.getLogger(__name__)
_ASCII_SPACE = re.compile(r"[ \t\r\n]+")

MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 30
MAX_REFERENCES = 20
# Outbox rows per delivery task (and per SMTP connection).
DELIVERY_BATCH = 100
# How long a delivery task holds its rows before the sweep may take them.
LEASE = timedelta(minutes=10)


def _default_address() -> str:
    mailbox = Mailbox.objects.order_by("id").values_list("address", flat=True).first()
    if mailbox:
        return mailbox
    addresses = conf.support_address_list
    return addresses[0] if addresses else "support@deskhand.localhost"


def _ticket_addresses(items: list[Item]) -> dict[int, str]:
    """The mailbox each item's mail first arrived at, for the items that have one (one query)."""
    found: dict[int, str] = {}
    if items:
        for item_id, address in (InboundEmail.objects.filter(item__in=[item.pk for item in items], mailbox__isnull=False)
                                 .order_by("id").values_list("item_id", "mailbox__address")):
            found.setdefault(item_id, address)
    return found


def ticket_address(item: Item | None = None) -> str:
    """The address replies come from and go back to: the mailbox the ticket arrived at, else the
    first ticket address, else the first of DESKHAND_SUPPORT_ADDRESSES."""
    first = _ticket_addresses([item]).get(item.pk) if item is not None else None
    return first or _default_address()


def _thread_headers_many(items: list[Item], answering: list[str]) -> list[dict[str, str]]:
    """`thread_headers` of each item, in two queries for all of them."""
    ids = [item.pk for item in items]
    received: dict[int, list[tuple[int, str]]] = {}
    sent: dict[int, list[tuple[Any, str]]] = {}
    if ids:
        for pk, item_id, rfc_id in (InboundEmail.objects.filter(item__in=ids).exclude(rfc_message_id="")
                                    .values_list("id", "item_id", "rfc_message_id")):
            received.setdefault(item_id, []).append((pk, rfc_id))
        for created_at, item_id, rfc_id in (OutboundMessage.objects.filter(item__in=ids)
                                            .values_list("created_at", "item_id", "rfc_message_id")):
            sent.setdefault(item_id, []).append((created_at, rfc_id))
    headers: list[dict[str, str]] = []
    for item, answer in zip(items, answering, strict=True):
        found = [rfc_id for _, rfc_id in sorted(received.get(item.pk, []))]
        if answer:
            found.append(answer)
        inbound_last = found[-1] if found else ""
        found += [rfc_id for _, rfc_id in sorted(sent.get(item.pk, []))]
        if not found:
            headers.append({})
            continue
        references = [found[0], *found[1:][-(MAX_REFERENCES - 1):]] if len(found) > MAX_REFERENCES else found
        headers.append({"In-Reply-To": inbound_last or found[-1], "References": " ".join(dict.fromkeys(references))})
    return headers


def thread_headers(item: Item, *, answering: str = "") -> dict[str, str]:
    """In-Reply-To and References for a mail about `item`: the conversation's Message-IDs, mail
    received first, then ours, oldest first; at most MAX_REFERENCES (the first one kept).
    `answering` is the Message-ID of a mail being answered that is not filed yet."""
    return _thread_headers_many([item], [answering])[0]


def _one_line(text: str) -> str:
    return " ".join(_ASCII_SPACE.split(text.strip(" \t\r\n")))


def _render(kind: str, context: dict[str, Any], language: str = "") -> tuple[str, str, str]:
    """Subject, text and HTML of a mail, in `language` (a customer's; unsupported or "" is the
    default language). Activating a language is a dictionary lookup once its catalogue is loaded,
    so a batch switches per mail."""
    with translation.override(supported_language(language) or settings.LANGUAGE_CODE):
        # On one line; only ASCII whitespace folds (French keeps its no-break space before a colon).
        subject = _one_line(render_to_string(f"emails/{kind}.subject.txt", context))
        text = render_to_string(f"emails/{kind}.txt", context).strip() + "\n"
        html = render_to_string(f"emails/{kind}.html", context)
    return subject[:998], text, html


def render_mail(kind: str, context: dict[str, Any], *, language: str = "") -> tuple[str, str, str]:
    """Subject, text and HTML of a mail of `kind` in `language`, for `NewOutbound.rendered`."""
    return _render(kind, context, language)


def requester_languages(items: list[Item]) -> dict[int, str]:
    """Each item's requester's language: from the requesters already loaded, the rest in one query."""
    found: dict[int, str] = {}
    missing: dict[int, int] = {}
    for item in items:
        if item.requester_id is None:
            found[item.pk] = ""
        elif type(item).requester.is_cached(item):
            found[item.pk] = item.requester.language if item.requester is not None else ""
        else:
            missing[item.pk] = item.requester_id
    if missing:
        languages = dict(Customer.objects.filter(pk__in=set(missing.values())).values_list("pk", "language"))
        found.update({pk: languages.get(requester, "") for pk, requester in missing.items()})
    return found


@dataclass(frozen=True)
class NewOutbound:
    """A mail to queue. `answering` is the Message-ID of a mail being answered that is not filed
    yet; `address` the ticket address to send from ("" for the ticket's own)."""

    kind: str
    to: list[str]
    item: Item | None = None
    message: Message | None = None
    context: dict[str, Any] = field(default_factory=dict)
    auto: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    answering: str = ""
    address: str = ""
    # The language to write in: the recipient's (a customer's `language`); "" for the default.
    language: str = ""
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    # Subject, text and HTML already rendered (`render_mail`): a batch of mails that say the same
    # (a notification to a team of ten) renders them once; `context` is then not used.
    rendered: tuple[str, str, str] | None = None


def queue_outbound(mails: list[NewOutbound]) -> list[OutboundMessage]:
    """Write outbox rows, in the caller's transaction, and deliver them after commit: a task per
    `DELIVERY_BATCH` of them."""
    if not mails:
        return []
    items = [mail.item for mail in mails if mail.item is not None]
    first_mailbox = _ticket_addresses([mail.item for mail in mails if not mail.address and mail.item is not None])
    default = _default_address() if any(not mail.address for mail in mails) else ""
    threaded = iter(_thread_headers_many(items, [mail.answering for mail in mails if mail.item is not None]))
    sender_name = str(get_setting("email_sender_name"))
    rows = []
    for mail in mails:
        sender = mail.address or (first_mailbox.get(mail.item.pk, "") if mail.item is not None else "") or default
        subject, text, html = mail.rendered or _render(
            mail.kind, {"item": mail.item, "message": mail.message, "sender": sender, **mail.context}, mail.language)
        thread = next(threaded) if mail.item is not None else (
            {"In-Reply-To": mail.answering, "References": mail.answering} if mail.answering else {})
        headers: dict[str, Any] = {
            "From": formataddr((sender_name, sender)), "Reply-To": sender, **thread,
            "attachments": [{"name": a.name, "content_type": a.content_type, "path": a.file.name,
                             **({"cid": a.content_id} if a.inline and a.content_id else {})}
                            for a in mail.attachments],
        }
        if mail.cc:
            headers["Cc"] = ", ".join(mail.cc)
        if mail.bcc:
            # Not a header: `build_mail` never writes it; only the envelope carries these addresses.
            headers["bcc"] = list(mail.bcc)
        if mail.auto:
            headers["Auto-Submitted"] = "auto-replied"
        if supported_language(mail.language):  # what it is written in (a reply may keep it)
            headers["Content-Language"] = supported_language(mail.language)
        rows.append(OutboundMessage(
            kind=mail.kind, item=mail.item, message=mail.message, to=mail.to,
            recipient_key=(mail.to[0] if mail.to else "").lower()[:254], auto_submitted=mail.auto, subject=subject,
            body_text=text, body_html=html, rfc_message_id=make_msgid(domain=sender.rpartition("@")[2]),
            headers=headers))
    saved = OutboundMessage.objects.bulk_create(rows)
    ids = [row.pk for row in saved]
    for start in range(0, len(ids), DELIVERY_BATCH):
        # Robust: with the queue out of reach the rows wait in the outbox for the scheduler's sweep.
        after_commit(deliver_outbox.enqueue, outbound_ids=ids[start:start + DELIVERY_BATCH])
    return saved


def queue_reply(*, item: Item, message: Message, to: list[str], attachments: list[Attachment],
                cc: list[str] | None = None, bcc: list[str] | None = None) -> OutboundMessage:
    """An agent's reply as an outbox row; call inside the transaction that wrote the message."""
    return queue_outbound([NewOutbound(kind="reply", item=item, message=message, to=to, attachments=attachments,
                                       cc=list(cc or ()), bcc=list(bcc or ()),
                                       language=requester_languages([item])[item.pk])])[0]


def envelope_recipients(outbound: OutboundMessage) -> list[str]:
    """Everyone a mail is delivered to: To, Cc and the Bcc that no header names, each once."""
    headers: dict[str, Any] = outbound.headers or {}
    cc = [address.strip() for address in str(headers.get("Cc") or "").split(",") if address.strip()]
    seen: set[str] = set()
    every = []
    for address in (*outbound.to, *cc, *headers.get("bcc", [])):
        if address.lower() not in seen:
            seen.add(address.lower())
            every.append(address)
    return every


def _auto_allowed(addresses: list[str]) -> list[bool]:
    """At most `auto_reply_cap` automatic mails a day to one address: the last guard against a
    robot that answers every mail and identifies itself in no way we recognise. Mails to the same
    address in one batch count against the cap in turn."""
    cap = int(get_setting("auto_reply_cap"))
    keys = [address.lower() for address in addresses]
    since = timezone.now() - timedelta(days=1)
    sent: dict[str, int] = dict(
        OutboundMessage.objects.filter(auto_submitted=True, recipient_key__in=set(keys), created_at__gte=since)
        .values("recipient_key").annotate(count=Count("id")).values_list("recipient_key", "count")) if keys else {}
    allowed = []
    for key in keys:
        allowed.append(sent.get(key, 0) < cap)
        sent[key] = sent.get(key, 0) + 1
    return allowed


def auto_reply_allowed(address: str) -> bool:
    return _auto_allowed([address])[0]


@dataclass(frozen=True)
class Acknowledgement:
    """"We got your request", for a new ticket by email: to its sender, answering their mail."""

    item: Item
    message: Message | None
    to: str
    answering: str = ""
    address: str = ""


def queue_acknowledgements(acks: list[Acknowledgement]) -> list[OutboundMessage | None]:
    """Queue the acknowledgements of a batch of new tickets, unless switched off; None for each
    one over its address's daily cap."""
    if not acks or not get_setting("email_acknowledgement"):
        return [None] * len(acks)
    allowed = _auto_allowed([ack.to for ack in acks])
    languages = requester_languages([ack.item for ack, ok in zip(acks, allowed, strict=True) if ok])
    queued = iter(queue_outbound([
        NewOutbound(kind="acknowledgement", item=ack.item, message=ack.message, to=[ack.to], auto=True,
                    answering=ack.answering, address=ack.address, language=languages[ack.item.pk])
        for ack, ok in zip(acks, allowed, strict=True) if ok]))
    return [next(queued) if ok else None for ok in allowed]


def queue_acknowledgement(*, item: Item, message: Message | None, to: str, answering: str = "",
                          address: str = "") -> OutboundMessage | None:
    return queue_acknowledgements([Acknowledgement(item, message, to, answering, address)])[0]


def queue_rejection(*, to: str, subject: str, reason: str, answering: str = "", address: str = "",
                    language: str = "") -> OutboundMessage | None:
    """Tell a sender that their mail could not be filed (too large, say), within the cap; in
    `language`, the one their mail was written in."""
    if not auto_reply_allowed(to):
        return None
    return queue_outbound([NewOutbound(kind="rejected", to=[to], context={"original_subject": subject, "reason": reason},
                                       auto=True, answering=answering, address=address, language=language)])[0]


def _smtp(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    secure = parts.scheme in ("smtps", "smtp+ssl")
    host, port = parts.hostname or "127.0.0.1", parts.port or (465 if secure else 25)
    client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=30) if secure else smtplib.SMTP(host, port, timeout=30)
    if parts.scheme in ("smtp+tls", "submission"):
        client.starttls()
    if parts.username:
        client.login(unquote(parts.username), unquote(parts.password or ""))
    return client


def build_mail(outbound: OutboundMessage) -> EmailMessage:
    mail = EmailMessage()
    headers: dict[str, Any] = outbound.headers
    mail["From"] = headers.get("From", ticket_address())
    mail["To"] = ", ".join(outbound.to)
    mail["Subject"] = outbound.subject
    mail["Message-ID"] = outbound.rfc_message_id
    mail["Date"] = format_datetime(outbound.created_at or timezone.now())
    for name in ("Cc", "Reply-To", "In-Reply-To", "References", "Auto-Submitted"):
        if headers.get(name):
            mail[name] = headers[name]
    mail[LOOP_HEADER] = outbound.rfc_message_id.strip("<>").rpartition("@")[2] or "deskhand"
    if outbound.auto_submitted:
        # Ask Exchange and friends not to answer our automatic mail with theirs.
        mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content(outbound.body_text)
    if outbound.body_html:
        mail.add_alternative(outbound.body_html, subtype="html")
    storage = storages["attachments"]
    attachments = headers.get("attachments", [])
    # Images the HTML shows (`cid:`) go with it in a multipart/related part; the rest are attachments.
    html_part = mail.get_body(("html",)) if outbound.body_html else None
    for attachment in attachments:
        maintype, _, subtype = attachment["content_type"].partition("/")
        with storage.open(attachment["path"], "rb") as handle:
            data = handle.read()
        if attachment.get("cid") and html_part is not None:
            html_part.add_related(data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                                  cid=f"<{attachment['cid']}>", filename=attachment["name"])
        else:
            mail.add_attachment(data, maintype=maintype or "application",
                                subtype=subtype or "octet-stream", filename=attachment["name"])
    if headers.get("Content-Language"):  # last: setting the body moves or drops the Content-* headers
        mail["Content-Language"] = headers["Content-Language"]
    return mail


def _error_text(exc: Exception) -> str:
    """The server's answer as a person reads it: "550 5.1.1 <x@y>: mailbox full"."""
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {message}"[:2000]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{address}: {code} {message.decode('utf-8', 'replace')}"
                         for address, (code, message) in exc.recipients.items())[:2000]
    return (str(exc) or type(exc).__name__)[:2000]


def _permanent(exc: Exception) -> bool:
    """A 5xx answer will not change by trying again; a dropped connection or a 4xx may."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _claim(ids: list[int]) -> tuple[list[OutboundMessage], dict[int, str]]:
    """Take the rows among `ids` that are queued and due, with a lease (a second task for the
    same row, the sweep's after a crash say, waits it out); the others' statuses for the task."""
    now = timezone.now()
    statuses = dict.fromkeys(ids, "skipped")
    claimed = []
    with transaction.atomic():
        for outbound in OutboundMessage.objects.select_for_update().filter(pk__in=ids).order_by("id"):
            if outbound.status != OutboundStatus.QUEUED:
                continue
            if outbound.next_attempt_at and outbound.next_attempt_at > now + timedelta(seconds=1):
                statuses[outbound.pk] = "not yet"
                continue
            outbound.next_attempt_at = now + LEASE
            claimed.append(outbound)
        update_rows(claimed, ["next_attempt_at"])
    return claimed, statuses


def _failed(outbound: OutboundMessage, exc: Exception) -> None:
    """Record a failed attempt: kept as failed when the answer is permanent or the attempts are
    used up, else tried again after a delay that doubles each time."""
    outbound.last_error = _error_text(exc)
    if _permanent(exc) or outbound.attempts >= MAX_ATTEMPTS:
        outbound.status = OutboundStatus.FAILED
        outbound.next_attempt_at = None
        log.warning("outbox: %s failed for good: %s", outbound.rfc_message_id, exc)
    else:
        delay = timedelta(seconds=FIRST_RETRY_SECONDS * 2 ** (outbound.attempts - 1))
        outbound.next_attempt_at = timezone.now() + delay
        log.info("outbox: %s will be tried again in %s: %s", outbound.rfc_message_id, delay, exc)


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


_OUTCOME = ["status", "attempts", "last_error", "next_attempt_at", "sent_at"]


def _save(rows: list[OutboundMessage], statuses: dict[int, str]) -> None:
    """Write the outcome of these rows at once (a crash later in the batch sends none of them
    again), and queue the retry of each one left queued."""
    with transaction.atomic():
        update_rows(rows, _OUTCOME)
        for outbound in rows:
            statuses[outbound.pk] = outbound.status
            if outbound.status == OutboundStatus.QUEUED and outbound.next_attempt_at is not None:
                after_commit(deliver_outbound.using(run_after=outbound.next_attempt_at).enqueue,
                             outbound_id=outbound.pk)


def deliver(ids: list[int]) -> dict[int, str]:
    """Send the outbox rows `ids` over one SMTP connection (idempotent: a row that is not queued
    is left alone); without EMAIL_URL they are kept in the outbox. Each row's outcome is saved as
    soon as it is known. A temporary failure is tried again with exponential backoff, a permanent
    one is kept as failed; when the server cannot be reached at all, the rest of the batch waits
    for the same retry without an attempt counted."""
    claimed, statuses = _claim(ids)
    url = settings.EMAIL_URL
    if not url:
        for outbound in claimed:
            log.info("outbox: kept %s to %s (no EMAIL_URL): %s", outbound.rfc_message_id, outbound.to, outbound.subject)
            outbound.attempts += 1
            outbound.status = OutboundStatus.KEPT
            outbound.next_attempt_at = None
        _save(claimed, statuses)
        return statuses
    client: smtplib.SMTP | None = None
    try:
        for index, outbound in enumerate(claimed):
            outbound.attempts += 1
            try:
                if client is None:
                    try:
                        client = _smtp(url)
                    except (OSError, smtplib.SMTPException) as exc:  # nobody to send to: the rest wait too
                        _failed(outbound, exc)
                        rest = claimed[index + 1:]
                        for waiting in rest:
                            waiting.next_attempt_at = outbound.next_attempt_at or timezone.now() + LEASE
                        _save([outbound, *rest], statuses)
                        return statuses
                client.send_message(build_mail(outbound), to_addrs=envelope_recipients(outbound))
            except Exception as exc:  # noqa: BLE001 - recorded on the row; the others go on
                _failed(outbound, exc)
                if not isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused) \
                        and client is not None:
                    _quit(client)
                    client = None
            else:
                outbound.status = OutboundStatus.SENT
                outbound.sent_at = timezone.now()
                outbound.next_attempt_at = None
            _save([outbound], statuses)
    finally:
        if client is not None:
            _quit(client)
    return statuses


@task()
def deliver_outbox(*, outbound_ids: list[int]) -> str:
    statuses = deliver(outbound_ids[:DELIVERY_BATCH])
    return ", ".join(f"{count} {status}" for status, count in sorted(Counter(statuses.values()).items()))


@task()
def deliver_outbound(*, outbound_id: int) -> str:
    """One outbox row (a retry at its time, or the sweep's); its status afterwards."""
    return deliver([outbound_id])[outbound_id]


def due_outbound() -> list[int]:
    """Queued mail whose time has come and that no task is waiting for (after a crash, say)."""
    now = timezone.now()
    stale = now - timedelta(minutes=5)
    rows = OutboundMessage.objects.filter(status=OutboundStatus.QUEUED).filter(
        next_attempt_at__lte=now) | OutboundMessage.objects.filter(
        status=OutboundStatus.QUEUED, next_attempt_at__isnull=True, created_at__lte=stale)
    return list(rows.values_list("id", flat=True)[:500])
