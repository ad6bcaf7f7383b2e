"""The outbox: replies and notifications are rows written in the business transaction and
delivered by a task after commit (SMTP to EMAIL_URL, or kept in the outbox when there is none)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from deskhand.conf import conf
from deskhand.core.tasks import task
from deskhand.mail.models import OutboundMessage, OutboundStatus

if TYPE_CHECKING:
    from deskhand.work.models import Attachment, Item, Message

log = logging.getLogger(__name__)


def _sender_address() -> str:
    addresses = conf.support_address_list
    return addresses[0] if addresses else "support@deskhand.localhost"


def queue_reply(*, item: Item, message: Message, to: list[str], attachments: list[Attachment]) -> OutboundMessage:
    """An agent's reply as an outbox row; call inside the transaction that wrote the message."""
    sender = _sender_address()
    outbound = OutboundMessage.objects.create(
        kind="reply", item=item, message=message, to=to,
        subject=f"[{item.reference}] {item.title}"[:998],
        body_text=message.body, rfc_message_id=make_msgid(domain=sender.rpartition("@")[2]),
        headers={"From": formataddr(("Support", sender)), "Reply-To": sender,
                 "attachments": [{"name": a.name, "content_type": a.content_type, "path": a.file.name}
                                 for a in attachments]},
    )
    transaction.on_commit(partial(deliver_outbound.enqueue, outbound_id=outbound.pk))
    return outbound


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


def _build(outbound: OutboundMessage) -> EmailMessage:
    mail = EmailMessage()
    headers: dict[str, Any] = outbound.headers
    mail["From"] = headers.get("From", _sender_address())
    mail["To"] = ", ".join(outbound.to)
    mail["Subject"] = outbound.subject
    mail["Message-ID"] = outbound.rfc_message_id
    if headers.get("Reply-To"):
        mail["Reply-To"] = headers["Reply-To"]
    mail.set_content(outbound.body_text)
    storage = storages["attachments"]
    for attachment in headers.get("attachments", []):
        maintype, _, subtype = attachment["content_type"].partition("/")
        with storage.open(attachment["path"], "rb") as handle:
            mail.add_attachment(handle.read(), maintype=maintype or "application",
                                subtype=subtype or "octet-stream", filename=attachment["name"])
    return mail


@task()
def deliver_outbound(*, outbound_id: int) -> str:
    """Send one outbox row; idempotent (a sent row is left alone)."""
    outbound = OutboundMessage.objects.filter(pk=outbound_id).first()
    if outbound is None or outbound.status == OutboundStatus.SENT:
        return "skipped"
    url = settings.EMAIL_URL
    outbound.attempts += 1
    if not url:
        log.info("outbox: kept %s to %s (no EMAIL_URL): %s", outbound.rfc_message_id, outbound.to, outbound.subject)
        outbound.status = OutboundStatus.KEPT
        outbound.save(update_fields=["status", "attempts"])
        return outbound.status
    try:
        with _smtp(url) as client:
            client.send_message(_build(outbound))
    except (OSError, smtplib.SMTPException) as exc:
        outbound.status = OutboundStatus.FAILED
        outbound.last_error = str(exc)[:2000]
        outbound.save(update_fields=["status", "attempts", "last_error"])
        log.warning("outbox: %s failed: %s", outbound.rfc_message_id, exc)
        return outbound.status
    outbound.status = OutboundStatus.SENT
    outbound.sent_at = timezone.now()
    outbound.save(update_fields=["status", "attempts", "sent_at"])
    return outbound.status
