"""A real SMTP server on loopback for the tests that send mail (ingest, replies, notifications)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Capture:
    """A real SMTP server on loopback that keeps what it receives, or answers with `reply`."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reply = "250 OK"
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        if not self.reply.startswith("250"):
            return self.reply
        with self.lock:
            self.messages.append(envelope.original_content)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return self.reply


@pytest.fixture
def smtp_server() -> Iterator[tuple[Capture, int]]:
    capture = Capture()
    port = free_port()
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield capture, port
    finally:
        controller.stop()
