"""The widget in a real browser, on a page of another site (a second loopback server, another
origin and another site than the help desk): it shows only once the admin allows that site, keeps
the page's own styles and its own apart, and files a request through the chosen web form."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.testing.browsing import close_context, launch_chromium, shot
from deskhand.webforms.inputs import FormInput
from deskhand.webforms.services import create_form
from deskhand.work.models import Item

pytestmark = pytest.mark.django_db(transaction=True)

# The host page's styles are rude on purpose: none of them may reach the widget, and the widget's
# may not reach the page.
HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Acme shop</title>
<style>
  * { font-family: Georgia, serif !important; }
  button { display: none !important; }
  h1 { color: rgb(200, 0, 0); }
  .panel, .launch { background: rgb(0, 255, 0) !important; }
</style></head>
<body><h1>Acme shop</h1><p class="panel">Our own panel.</p>
<script src="%(desk)s/widget.js" data-language="de" data-name="Zoe Visitor" data-email="zoe@visitor.example" async></script>
</body></html>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


@pytest.fixture
def host_site(live_server: Any) -> Iterator[str]:
    page = (HOST_PAGE % {"desk": live_server.url}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"  # the help desk is at http://localhost:…
    server.shutdown()


@pytest.fixture
def visitor(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    close_context(context)


def test_not_shown_on_a_site_the_admin_did_not_allow(visitor: Page, host_site: str) -> None:
    refused: list[str] = []
    visitor.on("console", lambda message: refused.append(message.text))
    visitor.goto(host_site)
    visitor.wait_for_load_state("networkidle")
    expect(visitor.locator("#deskhand-widget")).to_have_count(0)
    assert any("CORS" in text or "blocked" in text for text in refused), refused


def test_a_visitor_sends_a_request_from_the_widget(visitor: Page, host_site: str) -> None:
    create_form(FormInput(slug="contact", title="Kontakt"), actor=SYSTEM)
    update_settings({"widget_origins": [host_site], "widget_form": "contact", "widget_apps": ["request"]}, actor=SYSTEM)
    visitor.goto(host_site)

    launcher = visitor.get_by_role("button", name="Hilfe")
    expect(launcher).to_be_visible()  # the page hides every <button>: not ours
    assert visitor.locator("h1").evaluate("h => getComputedStyle(h).color") == "rgb(200, 0, 0)"
    assert visitor.locator("p.panel").evaluate("p => getComputedStyle(p).backgroundColor") == "rgb(0, 255, 0)"
    assert "Georgia" not in launcher.evaluate("b => getComputedStyle(b).fontFamily")
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(37, 99, 235)"

    launcher.click()
    dialog = visitor.get_by_role("dialog", name="Support")
    expect(dialog).to_be_visible()
    form = visitor.frame_locator("iframe[title='Anfrage senden']")
    expect(form.get_by_label("Titel")).to_be_visible()
    shot(visitor, "widget-request")
    form.get_by_label("Titel").fill("Die Lieferung fehlt")
    form.get_by_label("Beschreibung").fill("Bestellung 4711 ist nicht angekommen.")
    form.get_by_label("E-Mail").fill("zoe@visitor.example")
    time.sleep(2)  # the form refuses what is quicker than a person
    form.get_by_role("button", name="Senden").click()
    expect(form.get_by_text("#")).to_be_visible()
    item = Item.objects.get()
    assert item.title == "Die Lieferung fehlt" and item.requester.email == "zoe@visitor.example"

    dialog.get_by_role("button", name="Schließen").click()
    expect(dialog).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
