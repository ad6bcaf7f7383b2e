"""The web server inside `deskhand serve` (granian + Django's ASGI handler), run in-process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from deskhand.agents.models import Agent
from deskhand.agents.services import issue_token
from deskhand.core.actors import SYSTEM
from deskhand.mail.models import InboundEmail
from deskhand.mail.tests.mails import make_mail
from deskhand.system.asgi import build_application
from deskhand.system.supervise import Supervised
from deskhand.system.tests import slow_urls
from deskhand.system.webserver import WebServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("deskhand.system.tests.slow_urls")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(**options: Any) -> Iterator[str]:
    port = _free_port()
    server = WebServer(build_application(**options), "127.0.0.1", port, header_timeout=2)
    part = Supervised("web", server.run, halt=server.halt)
    part.start()
    assert server.listening.wait(15), "the web server did not start"
    slow_urls.release.clear()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        slow_urls.release.set()
        part.stop(10)
    assert not part.is_alive() and part.restarts == 0


@pytest.fixture
def base() -> Iterator[str]:
    yield from _start()


@pytest.fixture
def small_body_base() -> Iterator[str]:
    yield from _start(max_body=1000)


def test_a_slow_request_does_not_hold_up_the_others(base: str) -> None:
    slow: dict[str, httpx.Response] = {}
    waiting = threading.Thread(target=lambda: slow.update(r=httpx.get(f"{base}/test/slow", timeout=20)))
    waiting.start()
    time.sleep(0.3)
    began = time.monotonic()
    health = httpx.get(f"{base}/healthz", timeout=5)
    assert health.status_code == 200 and time.monotonic() - began < 1.0
    assert waiting.is_alive(), "the slow request should still be running"
    slow_urls.release.set()
    waiting.join(10)
    assert slow["r"].status_code == 200 and slow["r"].text == "done"


def test_a_streamed_response_is_sent_as_it_is_produced(base: str) -> None:
    with httpx.stream("GET", f"{base}/test/trickle", timeout=5) as response:
        chunks = response.iter_bytes()
        assert next(chunks).startswith(b"first")  # arrives while the view still waits
        slow_urls.release.set()
        assert b"second" in b"".join(chunks)


def test_static_files_and_pages_are_served(base: str) -> None:
    css = httpx.get(f"{base}/static/deskhand.css", timeout=5)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and len(css.content) > 1000
    login = httpx.get(f"{base}/login", timeout=5)
    assert login.status_code == 200 and "Sign in" in login.text
    assert httpx.get(f"{base}/no-such-page", timeout=5).status_code == 404


def test_a_large_mail_posted_to_the_api_is_stored(base: str, admin: Agent) -> None:
    _token, plain = issue_token(admin, name="tests", actor=SYSTEM)
    attachment = b"x" * (20 * 1024 * 1024)
    raw = make_mail(subject="Big logs", message_id="<big@acme-corp.example>") + b"\r\n" + attachment
    response = httpx.post(f"{base}/api/v1/inbound-emails", content=raw, timeout=60,
                          headers={"Authorization": f"Bearer {plain}", "Content-Type": "message/rfc822"})
    assert response.status_code == 202, response.text
    assert InboundEmail.objects.get(pk=response.json()["id"]).size == len(raw)


def test_a_body_over_the_limit_is_refused_with_413(small_body_base: str) -> None:
    declared = httpx.post(f"{small_body_base}/api/v1/inbound-emails", content=b"x" * 2000, timeout=5)
    assert declared.status_code == 413 and "larger than" in declared.json()["detail"]

    def chunked() -> Iterator[bytes]:
        for _ in range(4):
            yield b"x" * 600

    streamed = httpx.post(f"{small_body_base}/api/v1/inbound-emails", content=chunked(), timeout=5)
    assert streamed.status_code == 413
    assert httpx.get(f"{small_body_base}/healthz", timeout=5).status_code == 200
