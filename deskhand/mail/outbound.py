"""The outbox: replies and notifications are rows written in the business transaction and
delivered by a task after commit (SMTP to EMAIL_URL, or kept in the outbox when there is none).

Every mail we send carries our own Message-ID (so an answer threads back), the thread's
In-Reply-To/References, the ticket token in the subject, a Reply-To of the ticket address and
our loop header; automatic mail also says `Auto-Submitted: auto-replied` (RFC 3834), and at most
`AUTO_REPLY_CAP` automatic mails go to one address a day, whatever loops a robot tries.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.storage import storages
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from deskhand.conf import conf
from deskhand.config.queries import get_setting
from deskhand.core.tasks import task
from deskhand.mail.loops import LOOP_HEADER
from deskhand.mail.models import InboundEmail, Mailbox, OutboundMessage, OutboundStatus

if TYPE_CHECKING:
    from deskhand.work.models import Attachment, Item, Message

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 30
MAX_REFERENCES = 20


def ticket_address(item: Item | None = None) -> str:
    """The address replies come from and go back to: the mailbox the ticket arrived at, else the
    first ticket address, else the first of DESKHAND_SUPPORT_ADDRESSES."""
    if item is not None:
        first = (InboundEmail.objects.filter(item=item, mailbox__isnull=False).order_by("id")
                 .values_list("mailbox__address", flat=True).first())
        if first:
            return first
    mailbox = Mailbox.objects.order_by("id").values_list("address", flat=True).first()
    if mailbox:
        return mailbox
    addresses = conf.support_address_list
    return addresses[0] if addresses else "support@deskhand.localhost"


def thread_headers(item: Item, *, answering: str = "") -> dict[str, str]:
    """In-Reply-To and References for a new mail on `item`: the mails of its thread, in order;
    `answering` is the Message-ID of a mail being answered that is not filed yet."""
    received = InboundEmail.objects.filter(item=item).exclude(rfc_message_id="").values_list("id", "rfc_message_id")
    sent = OutboundMessage.objects.filter(item=item).values_list("created_at", "rfc_message_id")
    ids = [rfc_id for _, rfc_id in sorted(received)]
    if answering:
        ids.append(answering)
    inbound_last = ids[-1] if ids else ""
    ids += [rfc_id for _, rfc_id in sorted(sent)]
    if not ids:
        return {}
    references = [ids[0], *ids[1:][-(MAX_REFERENCES - 1):]] if len(ids) > MAX_REFERENCES else ids
    return {"In-Reply-To": inbound_last or ids[-1], "References": " ".join(dict.fromkeys(references))}


def _render(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    subject = " ".join(render_to_string(f"emails/{kind}.subject.txt", context).split())
    text = render_to_string(f"emails/{kind}.txt", context).strip() + "\n"
    html = render_to_string(f"emails/{kind}.html", context)
    return subject[:998], text, html


def _queue(
    *,
    kind: str,
    item: Item | None,
    message: Message | None,
    to: list[str],
    context: dict[str, Any],
    auto: bool,
    attachments: list[Attachment] | None = None,
    answering: str = "",
    address: str = "",
) -> OutboundMessage:
    sender = address or ticket_address(item)
    subject, text, html = _render(kind, {"item": item, "message": message, "sender": sender, **context})
    headers: dict[str, Any] = {
        "From": formataddr((str(get_setting("email_sender_name")), sender)), "Reply-To": sender,
        **(thread_headers(item, answering=answering) if item is not None else
           {"In-Reply-To": answering, "References": answering} if answering else {}),
        "attachments": [{"name": a.name, "content_type": a.content_type, "path": a.file.name}
                        for a in attachments or []],
    }
    if auto:
        headers["Auto-Submitted"] = "auto-replied"
    outbound = OutboundMessage.objects.create(
        kind=kind, item=item, message=message, to=to, recipient_key=(to[0] if to else "").lower()[:254],
        auto_submitted=auto, subject=subject, body_text=text, body_html=html,
        rfc_message_id=make_msgid(domain=sender.rpartition("@")[2]), headers=headers,
    )
    transaction.on_commit(partial(deliver_outbound.enqueue, outbound_id=outbound.pk))
    return outbound


def queue_reply(*, item: Item, message: Message, to: list[str], attachments: list[Attachment]) -> OutboundMessage:
    """An agent's reply as an outbox row; call inside the transaction that wrote the message."""
    return _queue(kind="reply", item=item, message=message, to=to, context={}, auto=False, attachments=attachments)


def auto_reply_allowed(address: str) -> bool:
    """At most `auto_reply_cap` automatic mails a day to one address: the last guard against a
    robot that answers every mail and identifies itself in no way we recognise."""
    cap = int(get_setting("auto_reply_cap"))
    since = timezone.now() - timedelta(days=1)
    sent = OutboundMessage.objects.filter(
        auto_submitted=True, recipient_key=address.lower(), created_at__gte=since).count()
    return sent < cap


def queue_acknowledgement(*, item: Item, message: Message | None, to: str, answering: str = "",
                          address: str = "") -> OutboundMessage | None:
    """"We got your request": sent for a new ticket by email, unless switched off or capped."""
    if not get_setting("email_acknowledgement") or not auto_reply_allowed(to):
        return None
    return _queue(kind="acknowledgement", item=item, message=message, to=[to], context={}, auto=True,
                  answering=answering, address=address)


def queue_rejection(*, to: str, subject: str, reason: str, answering: str = "", address: str = ""
                    ) -> OutboundMessage | None:
    """Tell a sender that their mail could not be filed (too large, say), within the cap."""
    if not auto_reply_allowed(to):
        return None
    return _queue(kind="rejected", item=None, message=None, to=[to],
                  context={"original_subject": subject, "reason": reason}, auto=True, answering=answering,
                  address=address)


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
    for name in ("Reply-To", "In-Reply-To", "References", "Auto-Submitted"):
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
    for attachment in headers.get("attachments", []):
        maintype, _, subtype = attachment["content_type"].partition("/")
        with storage.open(attachment["path"], "rb") as handle:
            mail.add_attachment(handle.read(), maintype=maintype or "application",
                                subtype=subtype or "octet-stream", filename=attachment["name"])
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


@task()
def deliver_outbound(*, outbound_id: int) -> str:
    """Send one outbox row; idempotent (a row that is not queued is left alone). A temporary
    failure is tried again with exponential backoff; a permanent one is kept as failed."""
    with transaction.atomic():
        outbound = OutboundMessage.objects.select_for_update().filter(pk=outbound_id).first()
        if outbound is None or outbound.status != OutboundStatus.QUEUED:
            return "skipped"
        if outbound.next_attempt_at and outbound.next_attempt_at > timezone.now() + timedelta(seconds=1):
            return "not yet"
        outbound.attempts += 1
        # A lease: a second task for the same row (the sweep after a crash, say) waits it out.
        outbound.next_attempt_at = timezone.now() + timedelta(minutes=10)
        outbound.save(update_fields=["attempts", "next_attempt_at"])
    url = settings.EMAIL_URL
    if not url:
        log.info("outbox: kept %s to %s (no EMAIL_URL): %s", outbound.rfc_message_id, outbound.to, outbound.subject)
        outbound.status = OutboundStatus.KEPT
        outbound.next_attempt_at = None
        outbound.save(update_fields=["status", "next_attempt_at"])
        return outbound.status
    try:
        with _smtp(url) as client:
            client.send_message(build_mail(outbound))
    except (OSError, smtplib.SMTPException) as exc:
        outbound.last_error = _error_text(exc)
        if _permanent(exc) or outbound.attempts >= MAX_ATTEMPTS:
            outbound.status = OutboundStatus.FAILED
            outbound.next_attempt_at = None
            log.warning("outbox: %s failed for good: %s", outbound.rfc_message_id, exc)
        else:
            delay = timedelta(seconds=FIRST_RETRY_SECONDS * 2 ** (outbound.attempts - 1))
            outbound.next_attempt_at = timezone.now() + delay
            log.info("outbox: %s will be tried again in %s: %s", outbound.rfc_message_id, delay, exc)
            retry = partial(deliver_outbound.using(run_after=outbound.next_attempt_at).enqueue, outbound_id=outbound.pk)
            transaction.on_commit(retry)
        outbound.save(update_fields=["status", "last_error", "next_attempt_at"])
        return outbound.status
    outbound.status = OutboundStatus.SENT
    outbound.sent_at = timezone.now()
    outbound.next_attempt_at = None
    outbound.save(update_fields=["status", "sent_at", "next_attempt_at"])
    return outbound.status


def due_outbound() -> list[int]:
    """Queued mail whose time has come and that no task is waiting for (after a crash, say)."""
    now = timezone.now()
    stale = now - timedelta(minutes=5)
    rows = OutboundMessage.objects.filter(status=OutboundStatus.QUEUED).filter(
        next_attempt_at__lte=now) | OutboundMessage.objects.filter(
        status=OutboundStatus.QUEUED, next_attempt_at__isnull=True, created_at__lte=stale)
    return list(rows.values_list("id", flat=True)[:500])
