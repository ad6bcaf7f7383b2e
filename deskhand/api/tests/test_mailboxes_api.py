"""IMAP accounts through the API: created and changed like any mailbox, the password written but
never read back, and the connection test against a real Dovecot on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deskhand.audit.models import AuditEvent
from deskhand.conftest import ApiClient
from deskhand.ingest.tests.dovecot import HOST, Dovecot, ImapUser, free_port, run_dovecot
from deskhand.mail.models import Mailbox

PASSWORD_MARK = "s3cret-Passw0rd"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    yield from run_dovecot()


@pytest.fixture
def account(dovecot: Dovecot) -> ImapUser:
    return dovecot.add_user(password=f"{PASSWORD_MARK}-{free_port()}")


def imap_body(dovecot: Dovecot, account: ImapUser, **changes: Any) -> dict[str, Any]:
    return {"host": HOST, "port": dovecot.port, "security": "none", "username": account.username,
            "password": account.password, **changes}


@pytest.fixture
def created(api: ApiClient, dovecot: Dovecot, account: ImapUser) -> dict[str, Any]:
    response = api.post("/mailboxes", {"address": "support@acme-help.test", "name": "Support",
                                       "imap": imap_body(dovecot, account, folder="INBOX", poll_seconds=30)})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def test_an_imap_mailbox_is_created_and_its_password_never_comes_back(
        api: ApiClient, dovecot: Dovecot, created: dict[str, Any]) -> None:
    assert created["imap"] == {
        "host": HOST, "port": dovecot.port, "security": "none", "username": created["imap"]["username"],
        "folder": "INBOX", "poll_seconds": 30, "password_set": True, "last_poll_at": None, "last_poll_ok": None,
        "last_poll_message": ""}
    for response in (api.get(f"/mailboxes/{created['id']}"), api.get("/mailboxes"), api.get("/never-follow")):
        assert response.status_code == 200
        assert PASSWORD_MARK not in response.content.decode() and '"password"' not in response.content.decode()
    assert not any(PASSWORD_MARK in str(event.changes) for event in AuditEvent.objects.all())


def test_a_patch_without_the_password_keeps_it(api: ApiClient, dovecot: Dovecot, account: ImapUser,
                                                created: dict[str, Any]) -> None:
    path = f"/mailboxes/{created['id']}"
    changed = api.patch(path, {"name": "Helpdesk", "imap": {"poll_seconds": 120}})
    assert changed.status_code == 200, changed.content
    assert changed.json()["imap"]["poll_seconds"] == 120 and changed.json()["imap"]["password_set"] is True
    assert Mailbox.objects.get(pk=created["id"]).imap_password == account.password
    assert api.post(f"{path}/test").json()["ok"] is True

    new_password = api.patch(path, {"imap": {"password": "another-0ne"}})
    assert PASSWORD_MARK not in new_password.content.decode() and "another-0ne" not in new_password.content.decode()
    assert Mailbox.objects.get(pk=created["id"]).imap_password == "another-0ne"
    assert not any("another-0ne" in str(event.changes) for event in AuditEvent.objects.all())

    off = api.patch(path, {"imap": None})
    assert off.status_code == 200 and off.json()["imap"] is None
    assert Mailbox.objects.get(pk=created["id"]).imap_password == ""


def test_invalid_imap_settings_are_refused_without_echoing_the_password(
        api: ApiClient, dovecot: Dovecot, account: ImapUser) -> None:
    for changes, field in [({"port": 70000}, "imap.port"), ({"security": "tls"}, "imap.security"),
                           ({"host": ""}, "imap.host"), ({"password": ""}, "imap.password"),
                           ({"poll_seconds": 1}, "imap.poll_seconds"), ({"poll_seconds": None}, "imap.poll_seconds"),
                           ({"colour": "red"}, "imap.colour"), ({"port": "993"}, "imap.port")]:
        response = api.post("/mailboxes", {"address": "support@acme-help.test",
                                           "imap": imap_body(dovecot, account, **changes)})
        assert (response.status_code, response.json()["field"]) == (422, field)
        assert PASSWORD_MARK not in response.content.decode()
    assert Mailbox.objects.count() == 0


def test_the_connection_test_reports_what_the_server_says(api: ApiClient, dovecot: Dovecot, account: ImapUser,
                                                           created: dict[str, Any]) -> None:
    dovecot.deliver(account, b"From: bea@customer-co.test\r\nSubject: Hello\r\n\r\nHi.\r\n")
    path = f"/mailboxes/{created['id']}/test"
    response = api.post(path)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": "Connected: 1 message in INBOX, 1 unread."}
    assert dovecot.messages(account)[0][0] is False  # testing reads nothing

    api.patch(f"/mailboxes/{created['id']}", {"imap": {"password": "wrong-password-1"}})
    assert api.post(path).json() == {
        "ok": False, "message": "The server refused the user name or password ([AUTHENTICATIONFAILED] "
                                "Authentication failed)."}
    port = free_port()
    api.patch(f"/mailboxes/{created['id']}", {"imap": {"password": account.password, "port": port}})
    assert api.post(path).json() == {
        "ok": False, "message": f"127.0.0.1:{port} refused the connection: check the port and that the IMAP "
                                f"server is running."}
    assert Mailbox.objects.get(pk=created["id"]).last_poll_at is None  # a test is not a poll


def test_only_admins_test_a_connection(agent_api: ApiClient, created: dict[str, Any]) -> None:
    response = agent_api.post(f"/mailboxes/{created['id']}/test")
    assert response.status_code == 403


def test_a_mailbox_without_imap_has_nothing_to_test(api: ApiClient) -> None:
    plain = api.post("/mailboxes", {"address": "help@acme-help.test"}).json()
    assert plain["imap"] is None
    response = api.post(f"/mailboxes/{plain['id']}/test")
    assert (response.status_code, response.json()["field"]) == (422, "imap")
    assert api.post("/mailboxes/999999/test").status_code == 404
