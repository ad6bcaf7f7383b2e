"""Administration → Email with Django's test client: ticket addresses and IMAP accounts, the
never-add-as-follower list, the inbound mail log with retry and the outbox's failures; admins only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM, Actor
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw
from deskhand.mail.inputs import ImapSettings
from deskhand.mail.models import InboundEmail, Mailbox, NeverFollow, OutboundMessage, OutboundStatus
from deskhand.mail.queries import raw_bytes
from deskhand.mail.services import add_never_follow, create_mailbox
from deskhand.web.tests.test_item_mail import deliver, make_raw
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import add_message

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
IMAP = {"address": "help@acme.example", "name": "Acme help desk", "imap_host": "imap.acme.example",
        "imap_port": "993", "imap_security": "ssl", "imap_username": "help@acme.example",
        "imap_password": "s3cret-Pa55", "imap_folder": "INBOX", "poll_seconds": "60"}


def _form(**changes: str) -> dict[str, str]:
    return {"address": "", "name": "", "imap_host": "", "imap_port": "", "imap_security": "ssl",
            "imap_username": "", "imap_password": "", "imap_folder": "INBOX", "poll_seconds": "60", **changes}


def field_block(page: str, field_id: str) -> str:
    """The form field wrapper holding `field_id`: where its label, input and error are."""
    match = re.search(rf'<div class="field[^"]*">(?:(?!<div class="field).)*?id="{field_id}".*?</div>', page,
                      re.DOTALL)
    assert match, f"no field {field_id}"
    return match.group(0)


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/admin/email"), ("post", "/admin/email/mailboxes"), ("get", "/admin/email/mailboxes/{mailbox}"),
    ("post", "/admin/email/mailboxes/{mailbox}"), ("post", "/admin/email/mailboxes/{mailbox}/delete"),
    ("post", "/admin/email/mailboxes/{mailbox}/test"), ("post", "/admin/email/never-follow"),
    ("post", "/admin/email/never-follow/{entry}/delete"), ("post", "/admin/email/inbound/{inbound}/retry"),
    ("get", "/admin/email/inbound/{inbound}/original"), ("get", "/admin/email/inbound/{inbound}/original.eml"),
])
def test_only_admins(agent_client: Client, client: Client, method: str, url: str) -> None:
    mailbox = create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    entry = add_never_follow(address="list@lists.example", actor=SYSTEM)
    inbound = deliver(make_raw(sender=""))
    assert inbound.status == "failed"
    path = url.format(mailbox=mailbox.pk, entry=entry.pk, inbound=inbound.pk)
    data = {**IMAP, "address": "sneaky@acme.example"}
    assert getattr(agent_client, method)(path, data).status_code == 403
    signed_out = getattr(client, method)(path, data)
    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/login")
    assert list(Mailbox.objects.values_list("address", flat=True)) == ["support@deskhand.test"]
    assert NeverFollow.objects.count() == 2
    inbound.refresh_from_db()
    assert inbound.status == "failed"


def test_forms_need_the_csrf_token(admin: Agent) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post("/admin/email/mailboxes", _form(address="help@acme.example")).status_code == 403
    assert client.post("/admin/email/never-follow", {"address": "x@acme.example"}).status_code == 403
    assert not Mailbox.objects.exists() and not NeverFollow.objects.exists()
    page = client.get("/admin/email").content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 2


def test_the_page_has_its_tab_and_every_part(admin_client: Client) -> None:
    response = admin_client.get("/admin/email")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="/admin/email" aria-current="page">Email</a>' in page
    for text in ("Ticket addresses", "Add a ticket address", "Never add as follower", "Inbound mail",
                 "Outbox: mail not delivered", "No ticket addresses yet.", "No mail has arrived yet."):
        assert text in page, text
    for field_id, label in [("mailbox_address", "Ticket address"), ("mailbox_name", "Display name"),
                            ("mailbox_imap_host", "IMAP server"), ("mailbox_imap_port", "IMAP port"),
                            ("mailbox_imap_security", "Security"), ("mailbox_imap_username", "IMAP user name"),
                            ("mailbox_imap_password", "IMAP password"), ("mailbox_imap_folder", "IMAP folder"),
                            ("mailbox_poll_seconds", "Poll every (seconds)"),
                            ("never_address", "Address never to add as follower"), ("log-status", "Status")]:
        assert f'<label for="{field_id}">{label}</label>' in page, field_id
    assert 'href="/admin/email"' in admin_client.get("/admin/work").content.decode()


def test_add_a_ticket_address_with_an_imap_account(admin_client: Client) -> None:
    response = admin_client.post("/admin/email/mailboxes", IMAP)
    assert response.status_code == 302 and response["Location"] == "/admin/email#mailboxes"
    mailbox = Mailbox.objects.get()
    assert (mailbox.address, mailbox.name, mailbox.imap_host, mailbox.imap_port, mailbox.imap_username,
            mailbox.imap_password, mailbox.imap_folder, mailbox.poll_seconds) == (
        "help@acme.example", "Acme help desk", "imap.acme.example", 993, "help@acme.example", "s3cret-Pa55",
        "INBOX", 60)
    assert NeverFollow.objects.get().mailbox == mailbox  # a ticket address is never a follower
    page = admin_client.get("/admin/email").content.decode()
    assert "Ticket address help@acme.example added." in page
    assert "imap.acme.example:993 · INBOX · every 60 s" in page and "Not polled yet" in page
    assert "Test connection" in page and "s3cret-Pa55" not in page
    assert "ticket address</span>" in page  # on the never-follow list, marked and not removable
    assert f'/admin/email/never-follow/{NeverFollow.objects.get().pk}/delete' not in page


def test_a_plain_ticket_address_needs_no_imap(admin_client: Client) -> None:
    admin_client.post("/admin/email/mailboxes", _form(address="Support@Deskhand.TEST", imap_security="starttls"))
    mailbox = Mailbox.objects.get()
    assert mailbox.address == "support@deskhand.test" and not mailbox.is_imap
    page = admin_client.get("/admin/email").content.decode()
    assert "None: receives by SMTP or HTTP" in page and "Test connection" not in page


@pytest.mark.parametrize(("data", "status", "field_id", "message"), [
    (_form(), 422, "mailbox_address", "This field is required."),
    (_form(address="not an address"), 422, "mailbox_address", "@"),
    (_form(address="help@acme.example", imap_host="imap.acme.example", imap_port="abc",
           imap_username="u", imap_password="pw-Unique-77"), 422, "mailbox_imap_port", "Enter a whole number."),
    (_form(address="help@acme.example", imap_host="imap.acme.example", imap_port="70000",
           imap_username="u", imap_password="pw-Unique-77"), 422, "mailbox_imap_port", "port is a number from 1 to 65535."),
    (_form(address="help@acme.example", imap_host="imap.acme.example", imap_username="u"), 422,
     "mailbox_imap_password", "Enter the IMAP password."),
    (_form(address="help@acme.example", imap_username="u", imap_password="pw-Unique-77"), 422, "mailbox_imap_host",
     "Enter the IMAP server&#x27;s host name."),
    (_form(address="help@acme.example", imap_host="imap.acme.example", imap_username="u", imap_password="pw-Unique-77",
           poll_seconds="1"), 422, "mailbox_poll_seconds", "poll_seconds is a number from 10 to 86400."),
    (_form(address="SUPPORT@deskhand.test"), 409, "mailbox_address", "is already a ticket address."),
])
def test_bad_input_stays_at_the_field_and_writes_nothing(admin_client: Client, data: dict[str, str], status: int,
                                                         field_id: str, message: str) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    response = admin_client.post("/admin/email/mailboxes", data)
    page = response.content.decode()
    assert response.status_code == status
    assert message in field_block(page, field_id)
    assert list(Mailbox.objects.values_list("address", flat=True)) == ["support@deskhand.test"]
    assert NeverFollow.objects.count() == 1
    if data["imap_password"]:
        assert data["imap_password"] not in page.replace('name="imap_password"', "")  # typed passwords are not echoed


def test_edit_keeps_the_password_when_left_empty_and_turns_imap_off(admin_client: Client) -> None:
    admin_client.post("/admin/email/mailboxes", IMAP)
    mailbox = Mailbox.objects.get()
    page = admin_client.get(f"/admin/email/mailboxes/{mailbox.pk}").content.decode()
    assert "Edit help@acme.example" in page and "Save ticket address" in page
    assert 'value="imap.acme.example"' in page and "s3cret-Pa55" not in page
    assert "Leave empty to keep the current password." in page
    response = admin_client.post(f"/admin/email/mailboxes/{mailbox.pk}",
                                 {**IMAP, "address": "desk@acme.example", "imap_password": "", "imap_port": "",
                                  "imap_security": "starttls", "imap_folder": "Support"})
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.address, mailbox.imap_password, mailbox.imap_port, mailbox.imap_security, mailbox.imap_folder) \
        == ("desk@acme.example", "s3cret-Pa55", 143, "starttls", "Support")
    assert list(NeverFollow.objects.values_list("address", flat=True)) == ["desk@acme.example"]
    # Emptying the server (the other fields as shown) stops polling.
    admin_client.post(f"/admin/email/mailboxes/{mailbox.pk}",
                      {**IMAP, "address": "desk@acme.example", "imap_host": "", "imap_password": "",
                       "imap_port": "143"})
    mailbox.refresh_from_db()
    assert not mailbox.is_imap and mailbox.imap_password == ""


def test_a_refused_edit_changes_nothing(admin_client: Client) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    admin_client.post("/admin/email/mailboxes", IMAP)
    mailbox = Mailbox.objects.get(address="help@acme.example")
    response = admin_client.post(f"/admin/email/mailboxes/{mailbox.pk}", {**IMAP, "address": "support@deskhand.test"})
    page = response.content.decode()
    assert response.status_code == 409 and "is already a ticket address." in field_block(page, "mailbox_address")
    assert "Edit help@acme.example" in page
    response = admin_client.post(f"/admin/email/mailboxes/{mailbox.pk}", {**IMAP, "imap_port": "0"})
    assert response.status_code == 422
    mailbox.refresh_from_db()
    assert (mailbox.address, mailbox.imap_port) == ("help@acme.example", 993)
    assert admin_client.get("/admin/email/mailboxes/999999").status_code == 404
    assert admin_client.get("/admin/email/mailboxes/99999999999999999999999").status_code == 404


def test_delete_asks_first(admin_client: Client) -> None:
    mailbox = create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    deliver(make_raw())
    page = admin_client.get(f"/admin/email/mailboxes/{mailbox.pk}/delete").content.decode()
    assert "Delete the ticket address <strong>support@deskhand.test</strong>?" in page
    assert f'action="/admin/email/mailboxes/{mailbox.pk}/delete"' in page and "Delete ticket address" in page
    assert Mailbox.objects.exists()
    response = admin_client.post(f"/admin/email/mailboxes/{mailbox.pk}/delete")
    assert response.status_code == 302 and not Mailbox.objects.exists() and not NeverFollow.objects.exists()
    assert InboundEmail.objects.get().mailbox is None  # the mail stays
    assert "Ticket address support@deskhand.test deleted" in admin_client.get("/admin/email").content.decode()
    assert admin_client.post(f"/admin/email/mailboxes/{mailbox.pk}/delete").status_code == 404


def test_test_connection_shows_the_result_in_place(admin_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    admin_client.post("/admin/email/mailboxes", IMAP)
    plain = create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    mailbox = Mailbox.objects.get(address="help@acme.example")
    tested: list[str] = []

    def answer(result: tuple[bool, str]) -> Any:
        def fake(box: Mailbox) -> tuple[bool, str]:  # the IMAP server is outside the process
            tested.append(box.imap_password)
            return result
        return fake

    monkeypatch.setattr("deskhand.web.views.admin_mail.test_connection", answer((True, "Logged in; INBOX has 3 mails.")))
    response = admin_client.post(f"/admin/email/mailboxes/{mailbox.pk}/test", headers=HX)
    fragment = response.content.decode()
    assert response.status_code == 200 and tested == ["s3cret-Pa55"]
    assert f'id="test-{mailbox.pk}"' in fragment and "Logged in; INBOX has 3 mails." in fragment
    assert 'class="test-result ok"' in fragment and "<html" not in fragment

    monkeypatch.setattr("deskhand.web.views.admin_mail.test_connection",
                        answer((False, "Login failed: [AUTHENTICATIONFAILED]")))
    response = admin_client.post(f"/admin/email/mailboxes/{mailbox.pk}/test", headers=HX)
    assert response.status_code == 200 and 'class="test-result failed"' in response.content.decode()
    assert "[AUTHENTICATIONFAILED]" in response.content.decode()

    def broken(box: Mailbox) -> tuple[bool, str]:
        raise TimeoutError("timed out")

    monkeypatch.setattr("deskhand.web.views.admin_mail.test_connection", broken)
    response = admin_client.post(f"/admin/email/mailboxes/{mailbox.pk}/test", headers=HX)
    assert response.status_code == 200 and "The test could not run: TimeoutError: timed out" in response.content.decode()

    response = admin_client.post(f"/admin/email/mailboxes/{plain.pk}/test", headers=HX)
    assert "no IMAP account to test" in response.content.decode()
    # Without htmx the result comes back as a message on the page.
    response = admin_client.post(f"/admin/email/mailboxes/{mailbox.pk}/test", follow=True)
    assert response.status_code == 200 and "help@acme.example: The test could not run" in response.content.decode()


def test_never_follow_list(admin_client: Client) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    response = admin_client.post("/admin/email/never-follow", {"address": "List@Lists.Example"})
    assert response.status_code == 302 and response["Location"] == "/admin/email#never-follow"
    entry = NeverFollow.objects.get(mailbox=None)
    assert entry.address == "List@lists.example"
    page = admin_client.get("/admin/email").content.decode()
    assert "List@lists.example will never be added as a follower." in page
    assert f'action="/admin/email/never-follow/{entry.pk}/delete"' in page

    for address, status, message in [("list@lists.example", 409, "is already on the list."),
                                     ("nope", 422, "@"), ("", 422, "This field is required.")]:
        response = admin_client.post("/admin/email/never-follow", {"address": address})
        assert response.status_code == status
        assert message in field_block(response.content.decode(), "never_address")
    assert NeverFollow.objects.count() == 2

    ticket_address = NeverFollow.objects.get(mailbox__isnull=False)
    response = admin_client.post(f"/admin/email/never-follow/{ticket_address.pk}/delete")
    assert response.status_code == 409 and "is a ticket address" in response.content.decode()
    assert NeverFollow.objects.count() == 2
    response = admin_client.post(f"/admin/email/never-follow/{entry.pk}/delete")
    assert response.status_code == 302 and not NeverFollow.objects.filter(pk=entry.pk).exists()
    assert admin_client.post(f"/admin/email/never-follow/{entry.pk}/delete").status_code == 404


def _log_rows(page: str) -> list[str]:
    return re.findall(r'<tr class="log-row" data-status="(\w+)">', page)


@pytest.fixture
def mails(db: Any) -> dict[str, InboundEmail]:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    found = {
        "processed": deliver(make_raw(subject="Printer jammed")),
        "ignored": deliver(make_raw(subject="Out of office", headers={"Auto-Submitted": "auto-replied"})),
        "failed": deliver(make_raw(subject="Who am I", sender="")),
        "received": receive_raw(make_raw(subject="Not yet"), transport="http"),
    }
    for status, inbound in found.items():
        inbound.refresh_from_db()
        assert inbound.status == status, inbound.reason
    return found


def test_inbound_log_filters_by_status_in_the_address(admin_client: Client, mails: dict[str, InboundEmail]) -> None:
    page = admin_client.get("/admin/email").content.decode()
    assert _log_rows(page) == ["received", "failed", "ignored", "processed"]
    processed = mails["processed"]
    assert f'<a href="/tickets/{processed.item_id}">#{processed.item_id}</a>' in page
    assert "zoe@acme.example" in page and "Printer jammed" in page and "support@deskhand.test" in page
    assert '<span class="status-badge mail-failed">Failed</span>' in page
    assert f'<a href="/admin/email/inbound/{mails["failed"].pk}/original" title="The original mail">Who am I</a>' in page
    assert mails["failed"].reason in page and mails["ignored"].reason in page
    for status in ("received", "processed", "ignored", "failed"):
        page = admin_client.get("/admin/email", {"status": status}).content.decode()
        assert _log_rows(page) == [status]
        assert f'<option value="{status}" selected>' in page
    retry_buttons = re.findall(r'action="/admin/email/inbound/(\d+)/retry"', admin_client.get("/admin/email").content.decode())
    assert sorted(int(pk) for pk in retry_buttons) == sorted([mails["failed"].pk, mails["ignored"].pk])
    # htmx (the filter select) gets the log's rows alone (the select itself stays in place, with its
    # focus); a bad status says so instead of failing.
    response = admin_client.get("/admin/email", {"status": "failed"}, headers=HX)
    fragment = response.content.decode()
    assert response.status_code == 200 and fragment.lstrip().startswith('<div id="inbound-results">')
    assert _log_rows(fragment) == ["failed"] and "Ticket addresses" not in fragment
    response = admin_client.get("/admin/email", {"status": "lost"})
    assert response.status_code == 422 and "status is received, processed, ignored or failed." in response.content.decode()
    assert len(_log_rows(response.content.decode())) == 4


def test_inbound_log_pages_by_fifty(admin_client: Client) -> None:
    for number in range(53):
        receive_raw(make_raw(subject=f"Mail {number}"), transport="http", process=False)
    page = admin_client.get("/admin/email").content.decode()
    assert len(_log_rows(page)) == 50 and 'href="/admin/email?page=2" rel="next"' in page
    page = admin_client.get("/admin/email", {"page": "2"}).content.decode()
    assert len(_log_rows(page)) == 3 and 'href="/admin/email" rel="prev"' in page
    assert 'data-status="received"' in page
    page = admin_client.get("/admin/email", {"status": "received", "page": "2"}).content.decode()
    assert 'href="/admin/email?status=received" rel="prev"' in page
    assert len(_log_rows(admin_client.get("/admin/email", {"page": "x9"}).content.decode())) == 50


def test_retry_puts_a_failed_mail_back_and_returns_to_the_log(admin_client: Client,
                                                              mails: dict[str, InboundEmail]) -> None:
    failed = mails["failed"]
    response = admin_client.post(f"/admin/email/inbound/{failed.pk}/retry", {"next": "/admin/email?status=failed"})
    assert response.status_code == 302 and response["Location"] == "/admin/email?status=failed"
    failed.refresh_from_db()
    assert (failed.status, failed.reason) == ("received", "")
    page = admin_client.get(response["Location"]).content.decode()
    assert f"Mail {failed.pk} (Who am I) is processed again." in page and _log_rows(page) == []
    process_ids([failed.pk])  # the worker
    failed.refresh_from_db()
    assert failed.status == "failed" and failed.attempts == 2  # still no sender: failed again, with its reason

    processed = mails["processed"]
    response = admin_client.post(f"/admin/email/inbound/{processed.pk}/retry", {"next": "https://evil.example/"})
    assert response["Location"] == "/admin/email#inbound-log"
    assert "This mail was processed" in admin_client.get("/admin/email").content.decode()
    processed.refresh_from_db()
    assert processed.status == "processed"
    assert admin_client.post("/admin/email/inbound/999999/retry").status_code == 404


def test_an_admin_can_read_the_original_of_any_inbound_mail(admin_client: Client,
                                                            mails: dict[str, InboundEmail]) -> None:
    failed = mails["failed"]
    page = admin_client.get(f"/admin/email/inbound/{failed.pk}/original").content.decode()
    assert "Subject: Who am I" in page and "no sender" in page and "HTTP endpoint" in page
    assert f'href="/admin/email/inbound/{failed.pk}/original.eml"' in page
    download = admin_client.get(f"/admin/email/inbound/{failed.pk}/original.eml")
    assert download.getvalue() == raw_bytes(failed.pk)
    assert download["Content-Disposition"].startswith("attachment;")


def test_the_outbox_panel_lists_mail_that_was_not_delivered(admin_client: Client, admin: Agent) -> None:
    item = submit_ticket(ItemDraft(title="Printer", requester_email="bob@acme.example"), actor=SYSTEM)
    reply = add_message(item, kind="reply", body="On our way.", actor=Actor.agent(admin))
    OutboundMessage.objects.filter(message=reply).update(status=OutboundStatus.FAILED, attempts=3,
                                                         last_error="550 5.1.1 no such user")
    page = admin_client.get("/admin/email").content.decode()
    panel = page.split('id="outbox"', 1)[1].split("</section>", 1)[0]
    assert "bob@acme.example" in panel and "5.1.1 no such user" in panel and ">3</td>" in panel
    assert f'href="/tickets/{item.pk}#message-{reply.pk}"' in panel


def test_page_queries_do_not_grow(admin_client: Client) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/email").status_code == 200
        return len(captured)

    def add(start: int, number: int) -> None:
        for n in range(start, start + number):
            create_mailbox(address=f"desk{n}@acme.example", imap=ImapSettings(host="imap.acme.example", username="u",
                                                                            password="p"), actor=SYSTEM)
            add_never_follow(address=f"list{n}@lists.example", actor=SYSTEM)
            deliver(make_raw(subject=f"Mail {n}"))

    add(0, 2)
    few = count()
    add(2, 10)
    assert count() == few <= 12
