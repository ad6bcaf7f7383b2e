"""Raw test mail, built the way mail clients build it."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

_counter = 0


def make_mail(
    *,
    sender: str = "Zoë Müller <zoe@acme-corp.example>",
    to: str = "support@deskhand.test",
    cc: str = "",
    subject: str = "Printer on floor 2 is offline",
    body: str = "Hello,\n\nthe printer on floor 2 does not print.\n\nZoë",
    html: str = "",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> bytes:
    global _counter
    _counter += 1
    mail = EmailMessage()
    if sender:
        mail["From"] = sender
    mail["To"] = to
    if cc:
        mail["Cc"] = cc
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=False)
    if message_id is None:
        message_id = f"<test-{_counter}-{id(mail)}@acme-corp.example>"
    if message_id:
        mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    if html:
        mail.add_alternative(html, subtype="html")
    for name, data, content_type in attachments or []:
        maintype, _, subtype = content_type.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(mail)
