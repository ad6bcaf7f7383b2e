"""Helpers for the browser tests of every interface (agents' app, portal): Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.signals import request_finished, request_started
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
SHOTS = os.environ.get("DESKHAND_SCREENSHOTS", "")
PASSWORD = "correct-horse-9"

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class _InFlight:
    """Requests the live server is still answering: a page's polling may outlive the test's last step."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def started(self, **_: Any) -> None:
        with self.lock:
            self.count += 1

    def finished(self, **_: Any) -> None:
        with self.lock:
            self.count = max(0, self.count - 1)

    def wait_idle(self, timeout: float = 5.0) -> None:
        # The database flush after a transactional test must not race a request still in a transaction
        # (PostgreSQL reports that as a deadlock).
        deadline = time.monotonic() + timeout
        while self.count and time.monotonic() < deadline:
            time.sleep(0.02)


IN_FLIGHT = _InFlight()
request_started.connect(IN_FLIGHT.started, dispatch_uid="deskhand-testing-started")
request_finished.connect(IN_FLIGHT.finished, dispatch_uid="deskhand-testing-finished")


def launch_chromium() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Install Debian's chromium package (.ci/run does)."
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        yield browser
        browser.close()


def signed_in_page(browser: Browser, live_server: Any, *, email: str, **context: Any) -> Iterator[Page]:
    """A page of a fresh browser context, signed in through /login as a person does it."""
    browser_context = browser.new_context(base_url=live_server.url, **context)
    page = browser_context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/login")
    shot(page, "login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    yield page
    close_context(browser_context)


def close_context(browser_context: BrowserContext) -> None:
    """Close a browser context, then let the live server finish what its pages had asked."""
    browser_context.close()
    IN_FLIGHT.wait_idle()


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def serve_page(html: str, *, host: str = "127.0.0.1") -> Iterator[str]:
    """One page of "another site" (a company's own), on a loopback port of its own: for the embed
    snippets and the widget. Yields its address."""
    import http.server

    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
