"""Helpers for the browser tests of every interface (agents' app, portal): Debian's Chromium through Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
SHOTS = os.environ.get("DESKHAND_SCREENSHOTS", "")
PASSWORD = "correct-horse-9"

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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
    browser_context.close()


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)
