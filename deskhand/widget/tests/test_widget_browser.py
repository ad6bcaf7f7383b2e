"""The widget in a real browser, on a page of another site (a second loopback server, another
origin and another site than the help desk): it shows only once the admin allows that site, keeps
the page's own styles and its own apart, and files a request through the chosen web form."""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.testing.asgi import serve_asgi
from deskhand.testing.browsing import close_context, launch_chromium, serve_page, shot
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
def desk() -> Iterator[str]:
    """The help desk under its own ASGI server: the chat's event stream needs it."""
    yield from serve_asgi()


@pytest.fixture
def host_site(desk: str) -> Iterator[str]:
    """The company's page, at http://127.0.0.1:…; the help desk is at http://localhost:…: another site."""
    yield from serve_page(HOST_PAGE % {"desk": desk})


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


def test_a_visitor_finds_an_article_then_chats_with_an_agent(visitor: Page, host_site: str) -> None:
    from deskhand.agents.services import create_agent
    from deskhand.chat.models import Chat
    from deskhand.chat.services import accept_chat, post_agent_message
    from deskhand.core.actors import Actor
    from deskhand.kb.inputs import ArticleInput
    from deskhand.kb.models import Deflection
    from deskhand.kb.services import create_article

    agent = create_agent("ana@deskhand.test", name="Ana Agent", actor=SYSTEM)
    create_article(ArticleInput(title="Passwort zurücksetzen", body="Öffnen Sie **Einstellungen** und wählen Sie "
                                "*Passwort vergessen*.", language="de", status="published"), actor=Actor.agent(agent))
    create_article(ArticleInput(title="Internes Passwort-Handbuch", body="Nur für das Team.", language="de",
                                status="published", visibility="internal"), actor=Actor.agent(agent))
    update_settings({"widget_origins": [host_site]}, actor=SYSTEM)
    visitor.goto(host_site)
    visitor.get_by_role("button", name="Hilfe").click()

    visitor.get_by_label("Unsere Hilfeartikel durchsuchen").fill("passwort")
    hit = visitor.get_by_role("button", name=re.compile("Passwort zurücksetzen"))
    expect(hit).to_be_visible()
    expect(visitor.get_by_role("button", name=re.compile("Internes"))).to_have_count(0)
    expect(visitor.get_by_text("Beliebte Artikel")).to_be_hidden()  # the answer to "passwort", not the first list
    shot(visitor, "widget-search")
    hit.click()
    expect(visitor.locator(".article strong")).to_have_text("Einstellungen")
    visitor.get_by_role("button", name="Ja").click()
    expect(visitor.get_by_text("Danke für Ihre Rückmeldung.")).to_be_visible()
    deadline = time.monotonic() + 5
    while not Deflection.objects.filter(source="widget").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Deflection.objects.filter(source="widget").count() == 1

    visitor.get_by_role("tab", name="Chat").click()
    expect(visitor.get_by_label("Ihr Name")).to_have_value("Zoe Visitor")  # from the tag's data-name
    visitor.get_by_label("Ihre Nachricht").fill("Die Mail zum Zurücksetzen kommt nicht an.")
    visitor.get_by_role("button", name="Chat starten").click()
    expect(visitor.get_by_role("status").filter(has_text="Warten auf einen Mitarbeiter")).to_be_visible()
    chat = Chat.objects.get()
    assert chat.customer.email == "zoe@visitor.example"

    accept_chat(chat, agent=agent, actor=Actor.agent(agent))
    expect(visitor.get_by_role("status").filter(has_text="Ana Agent antwortet.")).to_be_visible()
    post_agent_message(chat, body="Ich sehe nach. Welche Adresse nutzen Sie?", agent=agent, actor=Actor.agent(agent))
    expect(visitor.get_by_role("log")).to_contain_text("Welche Adresse nutzen Sie?")
    visitor.get_by_label("Ihre Nachricht").fill("zoe@visitor.example")
    visitor.keyboard.press("Enter")
    expect(visitor.get_by_role("log")).to_contain_text("zoe@visitor.example")
    shot(visitor, "widget-chat")
    assert chat.messages.filter(body="zoe@visitor.example").exists()

    visitor.reload()  # the chat goes on after a page change: its token is kept on this site
    visitor.get_by_role("button", name="Hilfe").wait_for()
    expect(visitor.get_by_role("log")).to_contain_text("Welche Adresse nutzen Sie?")


def test_outside_business_hours_the_chat_tab_takes_a_message_as_a_request(visitor: Page, host_site: str) -> None:
    from deskhand.sla.inputs import HoursInput, PolicyInput, TargetInput
    from deskhand.sla.services import create_policy

    # Business hours only on a weekday three days from today: the help desk is not online now.
    other_day = (datetime.datetime.now(datetime.UTC).weekday() + 3) % 7
    closed = create_policy(PolicyInput("Closed today", [TargetInput("normal", 60, 480)],
                                       business_hours=HoursInput(days=(other_day,))), actor=SYSTEM)
    update_settings({"widget_origins": [host_site], "widget_apps": ["chat"], "chat_hours_policy": closed.pk},
                    actor=SYSTEM)
    visitor.goto(host_site)
    visitor.get_by_role("button", name="Hilfe").click()
    expect(visitor.get_by_text("Wir sind gerade nicht online", exact=False)).to_be_visible()
    visitor.get_by_label("Ihre Nachricht").fill("Bitte rufen Sie mich morgen an.")
    visitor.get_by_role("button", name="Nachricht senden").click()
    expect(visitor.get_by_role("status")).to_contain_text("Ihre Nachricht ist die Anfrage #")
    item = Item.objects.get()
    expect(visitor.get_by_role("status")).to_contain_text(f"Ihre Nachricht ist die Anfrage {item.reference}")
    assert item.requester.email == "zoe@visitor.example" and item.channel == "chat"
    shot(visitor, "widget-leave-a-message")
