"""Administration → Email and mail in an item's conversation, in a real browser (Debian's Chromium
driven by Playwright), as an admin and an agent work with them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.config.queries import get_setting
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.mail.inputs import ImapSettings
from deskhand.mail.models import Mailbox, NeverFollow, OutboundMessage, OutboundStatus
from deskhand.mail.queries import raw_bytes
from deskhand.mail.services import add_never_follow, create_mailbox, record_poll
from deskhand.testing.browsing import shot, signed_in_page
from deskhand.web.tests.test_item_mail import deliver, make_raw, png
from deskhand.work.models import Item, Message
from deskhand.work.services.messages import add_message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    yield from signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1280, "height": 800},
                              accept_downloads=True)


def log_rows(page: Page) -> Any:
    return page.locator("#inbound-log tr.log-row")


def test_ticket_addresses_never_follow_and_the_inbound_log(page: Page, monkeypatch: pytest.MonkeyPatch) -> None:
    create_mailbox(address="support@deskhand.test", name="Deskhand support", actor=SYSTEM)
    sales = create_mailbox(address="sales@deskhand.test", imap=ImapSettings(host="mail.deskhand.test", username="sales",
                                                                          password="old", security="starttls"),
                           actor=SYSTEM)
    record_poll(sales, ok=False, message="Login failed: [AUTHENTICATIONFAILED] Authentication failed.")
    update_settings({"smtp_catch_all_domains": ["help.deskhand.test"]}, actor=SYSTEM)
    for subject, sender in [("Printer on floor 2 is offline", "Zoë Müller <zoe@acme.example>"),
                            ("VPN drops every hour", "Bob Stone <bob@globex.example>")]:
        deliver(make_raw(subject=subject, sender=sender))
    deliver(make_raw(subject="Automatic reply: Out of office", sender="Ann <ann@acme.example>",
                     headers={"Auto-Submitted": "auto-replied"}))
    failed = deliver(make_raw(subject="Invoice 2026-11", sender=""))
    assert failed.status == "failed"
    # The IMAP server lives outside this process: the test connection answers as a server would.
    monkeypatch.setattr("deskhand.web.views.admin_mail.test_connection",
                        lambda mailbox: (True, f"Logged in as {mailbox.imap_username}; {mailbox.imap_folder} has 12 mails."))

    page.get_by_role("navigation", name="Applications").get_by_role("link", name="Administration").click()
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Email").click()
    expect(page.get_by_role("heading", name="Email settings")).to_be_visible()

    page.get_by_label("Ticket address", exact=True).fill("help@acme.example")
    page.get_by_label("Display name").fill("Acme help desk")
    page.get_by_label("IMAP server").fill("imap.acme.example")
    page.get_by_label("Security").select_option("ssl")
    page.get_by_label("IMAP user name").fill("help@acme.example")
    page.get_by_label("IMAP password").fill("s3cret-Pa55")
    page.get_by_label("IMAP folder").fill("Support")
    page.get_by_role("button", name="Add ticket address").click()
    expect(page.get_by_text("Ticket address help@acme.example added.")).to_be_visible()
    row = page.locator("#mailboxes tr[data-mailbox='help@acme.example']")
    expect(row).to_contain_text("imap.acme.example:993 · Support · every 60 s")
    expect(row).to_contain_text("Not polled yet")
    mailbox = Mailbox.objects.get(address="help@acme.example")
    assert mailbox.imap_password == "s3cret-Pa55" and mailbox.imap_folder == "Support"
    assert "s3cret-Pa55" not in page.content()

    page.get_by_label("Address never to add as follower").fill("alerts@lists.example")
    page.get_by_role("button", name="Add to the list").click()
    expect(page.get_by_text("alerts@lists.example will never be added as a follower.")).to_be_visible()
    never = page.locator("#never-follow")
    expect(never.locator("li", has_text="alerts@lists.example").get_by_role("button", name="Remove")).to_be_visible()
    expect(never.locator("li", has_text="support@deskhand.test")).to_contain_text("ticket address")
    expect(never.locator("li", has_text="support@deskhand.test").get_by_role("button")).to_have_count(0)
    assert NeverFollow.objects.filter(address="alerts@lists.example", mailbox=None).exists()

    page.evaluate("window.stillHere = true")
    row.get_by_role("button", name="Test connection").click()
    expect(row.get_by_role("status")).to_have_text("✓ Logged in as help@acme.example; Support has 12 mails.")
    assert page.evaluate("window.stillHere") is True  # in place, no reload

    expect(log_rows(page)).to_have_count(4)
    shot(page, "admin-email")

    # A duplicate is refused at the field, and nothing is added.
    page.get_by_label("Ticket address", exact=True).fill("SUPPORT@deskhand.test")
    page.get_by_role("button", name="Add ticket address").click()
    expect(page.locator("#mailbox-form .field-error")).to_have_text("support@deskhand.test is already a ticket address.")
    assert Mailbox.objects.count() == 3

    page.get_by_label("Status", exact=True).select_option("failed")
    expect(log_rows(page)).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/admin/email\?status=failed$"))
    failed_row = log_rows(page).first
    expect(failed_row).to_contain_text("Failed")
    expect(failed_row).to_contain_text("no sender")
    shot(page, "admin-email-failed")
    page.reload()  # the filter is in the address
    expect(log_rows(page)).to_have_count(1)
    failed_row.get_by_role("link", name="Invoice 2026-11").click()  # what was it?
    expect(page.locator("pre.raw-headers")).to_contain_text("Subject: Invoice 2026-11")
    expect(page.locator(".original-facts")).to_contain_text("no sender: the mail has no usable From address")
    page.go_back()

    failed_row.get_by_role("button", name="Retry").click()
    expect(page.get_by_text(f"Mail {failed.pk} (Invoice 2026-11) is processed again.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/email\?status=failed$"))
    expect(log_rows(page)).to_have_count(0)
    failed.refresh_from_db()
    assert failed.status == "received"

    page.get_by_label("Status", exact=True).select_option("ignored")
    expect(page).to_have_url(re.compile(r"/admin/email\?status=ignored$"))
    expect(log_rows(page)).to_have_count(1)
    expect(log_rows(page).first).to_contain_text("Out of office")
    page.get_by_label("Status", exact=True).select_option("")
    expect(page).to_have_url(re.compile(r"/admin/email\?status=$"))
    expect(log_rows(page)).to_have_count(4)

    # Delete asks first.
    page.locator("#mailboxes tr[data-mailbox='help@acme.example']").get_by_role("link", name="Delete").click()
    expect(page.get_by_role("alert").filter(has_text="Delete the ticket address help@acme.example?")).to_be_visible()
    shot(page, "admin-email-delete")
    page.get_by_role("button", name="Delete ticket address").click()
    expect(page.get_by_text("Ticket address help@acme.example deleted")).to_be_visible()
    assert not Mailbox.objects.filter(address="help@acme.example").exists()


def test_catch_all_domains(page: Page) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    add_never_follow(address="alerts@lists.example", actor=SYSTEM)
    page.goto("/admin/email")
    section = page.locator("#catch-all")
    expect(section.get_by_role("heading", name="Catch-all domains")).to_be_visible()
    expect(section).to_contain_text("takes mail to any address at these domains")
    expect(section).to_contain_text("None: only ticket addresses take mail.")

    page.get_by_label("Catch-all domain", exact=True).fill("Deskhand.TEST")
    page.get_by_role("button", name="Add catch-all domain").click()
    expect(page.get_by_text("Mail to any address at deskhand.test is now taken.")).to_be_visible()
    page.get_by_label("Catch-all domain", exact=True).fill("bücher.example")
    page.get_by_role("button", name="Add catch-all domain").click()
    expect(section.locator("li .addr")).to_have_text(["deskhand.test", "bücher.example"])
    assert get_setting("smtp_catch_all_domains") == ["deskhand.test", "xn--bcher-kva.example"]

    # Refused at the field, the typed text kept for correcting, nothing changed.
    page.get_by_label("Catch-all domain", exact=True).fill("sales@acme.example")
    page.get_by_role("button", name="Add catch-all domain").click()
    field = page.get_by_label("Catch-all domain", exact=True)
    expect(field).to_have_value("sales@acme.example")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(section.locator(".field-error")).to_have_text("Enter a domain such as acme.com, not an address.")
    expect(section.locator("li .addr")).to_have_count(2)
    # Calm and aligned: the card sits in the column of the never-follow card, above it, as wide; its
    # rows and field fit inside; the Remove buttons line up at the right edge; nothing scrolls sideways.
    card, never = section.bounding_box(), page.locator("#never-follow").bounding_box()
    assert card and never
    assert abs(card["x"] - never["x"]) < 1 and abs(card["width"] - never["width"]) < 1 and card["y"] < never["y"]
    field_box = field.bounding_box()
    assert field_box and card["x"] < field_box["x"] and field_box["x"] + field_box["width"] < card["x"] + card["width"]
    rights = [box["x"] + box["width"] for box in (button.bounding_box() for button in
                                                   section.get_by_role("button", name="Remove").all()) if box]
    assert len(rights) == 2 and max(rights) - min(rights) < 1 and max(rights) < card["x"] + card["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    shot(page, "admin-email-catch-all")

    section.get_by_role("button", name="Remove deskhand.test").click()
    expect(page.get_by_text("deskhand.test is no longer a catch-all domain.")).to_be_visible()
    expect(section.locator("li .addr")).to_have_text(["bücher.example"])
    assert get_setting("smtp_catch_all_domains") == ["xn--bcher-kva.example"]


def test_a_mail_ticket_in_the_conversation(page: Page, admin: Agent) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    add_never_follow(address="alerts@lists.example", actor=SYSTEM)
    html = ('<p>Hello,</p><p>since this morning the printer on <strong>floor 2</strong> shows the error below '
            'and prints nothing.</p><p><img src="cid:screen@acme.example" alt="Error on the printer display"></p>'
            '<table><tr><th>Model</th><td>LaserJet 4250</td></tr><tr><th>Asset</th><td>ACME-0042</td></tr></table>'
            '<p>Thanks,<br>Zoë</p><script>document.title = "hacked"</script>')
    first = deliver(make_raw(html=html, inline_png="screen@acme.example", picture=png(240, 80),
                             text="Hello,\n\nsince this morning the printer on floor 2 shows an error and prints "
                                  "nothing.\n\nModel: LaserJet 4250\nAsset: ACME-0042\n\nThanks,\nZoë",
                             files=[("printer-log.txt", b"E-52 paper jam\n" * 20, "text/plain")],
                             headers={"X-Mailer": "Acme Mail 7"}))
    assert first.status == "processed", first.reason
    item = Item.objects.get(pk=first.item_id)
    reply = add_message(item, kind="reply", body="Could you switch it off and on again?", actor=Actor.agent(admin))
    OutboundMessage.objects.filter(message=reply).update(
        status=OutboundStatus.FAILED, attempts=1, last_error="550 5.1.1 <zoe@acme.example>: mailbox full")
    answer = deliver(make_raw(
        subject="Re: Printer on floor 2 is offline", in_reply_to=first.rfc_message_id,
        text="I did, it prints again. Thank you!\n\nOn Mon, 23 Nov 2026, Ada Admin <support@deskhand.test> wrote:\n"
             "> Could you switch it off and on again?\n"))
    assert answer.item_id == item.pk
    message = Message.objects.get(pk=first.message_id)

    page.goto(f"/tickets/{item.pk}")
    first_message = page.locator(f"#message-{message.pk}")
    expect(first_message.locator(".msg-channel")).to_have_text("email")
    expect(first_message.locator(".msg-html strong")).to_have_text("floor 2")
    image = first_message.get_by_role("img", name="Error on the printer display")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 240  # the inline image loads
    expect(first_message.get_by_role("link", name="printer-log.txt")).to_be_visible()
    assert page.title() != "hacked"
    expect(page.locator(f"#message-{reply.pk}")).to_contain_text(
        "Not delivered to zoe@acme.example: 550 5.1.1 <zoe@acme.example>: mailbox full")

    reply_message = page.locator(f"#message-{answer.message_id}")
    expect(reply_message).to_contain_text("I did, it prints again. Thank you!")
    quoted = reply_message.get_by_text("> Could you switch it off and on again?")
    expect(quoted).to_be_hidden()
    reply_message.get_by_text("Show quoted text").click()
    expect(quoted).to_be_visible()
    shot(page, "ticket-mail")

    with page.expect_download() as download:
        first_message.get_by_role("link", name="printer-log.txt").click()
    assert download.value.suggested_filename == "printer-log.txt"

    first_message.get_by_role("link", name="View original").click()
    expect(page.get_by_role("heading", name="Original mail: Printer on floor 2 is offline")).to_be_visible()
    headers = page.locator("pre.raw-headers")
    expect(headers).to_contain_text("X-Mailer: Acme Mail 7")
    expect(headers).to_contain_text(f"Message-ID: {first.rfc_message_id}")
    shot(page, "admin-email-original")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download .eml").click()
    assert download.value.suggested_filename == f"mail-{first.pk}.eml"
    assert Path(download.value.path()).read_bytes() == raw_bytes(first.pk)
    page.get_by_role("link", name=item.reference).click()
    expect(page.locator(f"#message-{message.pk}")).to_be_visible()
