from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from deskhand.core.actors import Actor
from deskhand.mail.models import OutboundMessage
from deskhand.mail.outbound import deliver_outbound
from deskhand.work.models import Item
from deskhand.work.services.messages import NewAttachment, add_message


class Capture:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.messages.append(envelope.original_content)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Capture, int]]:
    capture = Capture()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield capture, port
    finally:
        controller.stop()


def test_without_email_url_replies_stay_in_the_outbox(ticket: Item, agent_actor: Actor, settings: Any) -> None:
    settings.EMAIL_URL = ""
    add_message(ticket, kind="reply", body="Hello", actor=agent_actor)
    outbound = OutboundMessage.objects.get()
    assert deliver_outbound.call(outbound_id=outbound.pk) == "kept"
    outbound.refresh_from_db()
    assert outbound.status == "kept" and outbound.attempts == 1


def test_a_reply_is_sent_by_smtp_with_its_attachment(ticket: Item, agent_actor: Actor, settings: Any,
                                                     smtp_server: tuple[Capture, int]) -> None:
    capture, port = smtp_server
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    add_message(ticket, kind="reply", body="Fixed, see the log.", actor=agent_actor,
                attachments=[NewAttachment(name="fix.log", content=b"done\n", content_type="text/plain")])
    outbound = OutboundMessage.objects.get()
    assert deliver_outbound.call(outbound_id=outbound.pk) == "sent"
    assert deliver_outbound.call(outbound_id=outbound.pk) == "skipped"
    [raw] = capture.messages
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == "bob@acme.example" and mail["Subject"] == f"[{ticket.reference}] Printer on fire"
    assert mail["Message-ID"] == outbound.rfc_message_id
    assert "Fixed, see the log." in mail.get_body(("plain",)).get_content()
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "fix.log" and attachment.get_content() == "done\n"


def test_an_unreachable_server_marks_the_message_failed(ticket: Item, agent_actor: Actor, settings: Any) -> None:
    settings.EMAIL_URL = "smtp://127.0.0.1:9"
    add_message(ticket, kind="reply", body="Hello", actor=agent_actor)
    outbound = OutboundMessage.objects.get()
    assert deliver_outbound.call(outbound_id=outbound.pk) == "failed"
    outbound.refresh_from_db()
    assert outbound.status == "failed" and outbound.last_error
