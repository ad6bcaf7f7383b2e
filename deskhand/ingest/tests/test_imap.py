"""The IMAP transport against a real Dovecot on loopback (deskhand/ingest/tests/dovecot.py)."""

from __future__ import annotations

import imaplib
import logging
import queue
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from django.db import OperationalError
from django_tasks_db.models import DBTaskResult

from deskhand.core.actors import Actor
from deskhand.ingest import imap
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.tests.dovecot import HOST, Dovecot, ImapUser, free_port, run_dovecot
from deskhand.mail.inputs import ImapSettings
from deskhand.mail.models import InboundEmail, InboundStatus, Mailbox, Transport
from deskhand.mail.queries import raw_bytes
from deskhand.mail.services import create_mailbox, record_poll

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def tasks_in_the_database(settings: Any) -> None:
    """These tests read the queued polls from the database queue, whatever the suite's backend."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASKS_VENDOR = "database"

SUPPORT = "support@acme-help.test"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    yield from run_dovecot()


@pytest.fixture
def account(dovecot: Dovecot) -> ImapUser:
    return dovecot.add_user()


def mailbox_for(actor: Actor, dovecot: Dovecot, user: ImapUser, *, address: str = SUPPORT,
                **imap_values: Any) -> Mailbox:
    values = {"host": HOST, "port": dovecot.port, "security": "none", "username": user.username,
              "password": user.password, **imap_values}
    return create_mailbox(address=address, name="Support", imap=ImapSettings(**values), actor=actor)


@pytest.fixture
def mailbox(admin_actor: Actor, dovecot: Dovecot, account: ImapUser) -> Mailbox:
    return mailbox_for(admin_actor, dovecot, account)


def mail(subject: str, *, sender: str = "Bea Buyer <bea@customer-co.test>", body: str = "Hello, it is broken.",
         charset: str = "utf-8") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="customer-co.test")
    message.set_content(body, charset=charset, cte="8bit" if charset != "utf-8" else None)
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def poll(mailbox: Mailbox) -> str:
    return imap.poll_mailbox.call(mailbox_id=mailbox.pk, force=True)


def polls_enqueued(mailbox: Mailbox) -> list[dict[str, Any]]:
    rows = DBTaskResult.objects.filter(task_path="deskhand.ingest.imap.poll_mailbox")
    return [row.args_kwargs["kwargs"] for row in rows if row.args_kwargs["kwargs"]["mailbox_id"] == mailbox.pk]


# -- polling ---------------------------------------------------------------------------------------


def test_a_poll_stores_unread_mail_byte_for_byte_and_it_becomes_tickets(
        dovecot: Dovecot, account: ImapUser, mailbox: Mailbox) -> None:
    mails = [mail("Printer on fire"), mail("Invoice 2024-17 is wrong"),
             mail("Café crème order", body="Grüße aus Köln, die Bestellung fehlt.", charset="windows-1252")]
    dovecot.deliver(account, mail("Read by someone already"), seen=True)
    dovecot.deliver(account, *mails)

    assert imap.poll_mailbox.call(mailbox_id=mailbox.pk) == "3 new messages."

    inbound = list(InboundEmail.objects.order_by("id"))
    assert [raw_bytes(row.pk) for row in inbound] == mails  # untouched: no re-encoding, no parsing
    assert {(row.transport, row.mailbox_id, row.status) for row in inbound} == {
        (Transport.IMAP, mailbox.pk, InboundStatus.RECEIVED)}
    mailbox.refresh_from_db()
    assert (mailbox.last_poll_ok, mailbox.last_poll_message) == (True, "3 new messages.")
    assert mailbox.last_poll_at is not None
    # Processing was asked for, after commit, once per mail.
    enqueued = DBTaskResult.objects.filter(task_path="deskhand.ingest.tasks.process_inbound")
    assert sorted(row.args_kwargs["kwargs"]["inbound_id"] for row in enqueued) == [row.pk for row in inbound]
    # The mail stays on the server, now read.
    assert [seen for seen, _raw in dovecot.messages(account)] == [True, True, True, True]

    done = process_ids([row.pk for row in inbound])
    assert {row.status for row in done} == {InboundStatus.PROCESSED}
    assert [row.item.title for row in done] == ["Printer on fire", "Invoice 2024-17 is wrong", "Café crème order"]
    assert {row.item.requester.email for row in done} == {"bea@customer-co.test"}


def test_the_next_poll_fetches_only_what_is_new(dovecot: Dovecot, account: ImapUser, mailbox: Mailbox) -> None:
    dovecot.deliver(account, mail("First"))
    assert poll(mailbox) == "1 new message."
    assert poll(mailbox) == "No new messages."
    assert InboundEmail.objects.count() == 1
    dovecot.deliver(account, mail("Second"))
    assert poll(mailbox) == "1 new message."
    assert list(InboundEmail.objects.order_by("id").values_list("transport", flat=True)) == ["imap", "imap"]
    assert len(dovecot.messages(account)) == 2


def test_the_scheduler_skips_a_mailbox_polled_within_its_interval(
        dovecot: Dovecot, account: ImapUser, mailbox: Mailbox) -> None:
    assert imap.due_mailboxes() == [mailbox.pk]
    dovecot.deliver(account, mail("Queued twice"))
    assert imap.poll_mailbox.call(mailbox_id=mailbox.pk) == "1 new message."
    assert imap.due_mailboxes() == []
    # Queued again while the worker was busy: no second connection.
    dovecot.deliver(account, mail("Waits for the interval"))
    assert imap.poll_mailbox.call(mailbox_id=mailbox.pk) == "polled recently"
    assert InboundEmail.objects.count() == 1


def test_due_mailboxes_are_imap_mailboxes_past_their_interval(admin_actor: Actor, dovecot: Dovecot,
                                                               account: ImapUser) -> None:
    create_mailbox(address="plain@acme-help.test", actor=admin_actor)
    never = mailbox_for(admin_actor, dovecot, account, address="never@acme-help.test")
    recent = mailbox_for(admin_actor, dovecot, account, address="recent@acme-help.test", poll_seconds=60)
    old = mailbox_for(admin_actor, dovecot, account, address="old@acme-help.test", poll_seconds=10)
    record_poll(recent, ok=True, message="No new messages.")
    record_poll(old, ok=True, message="No new messages.")
    old.refresh_from_db()
    Mailbox.objects.filter(pk=old.pk).update(last_poll_at=old.last_poll_at - timedelta(seconds=11))
    assert sorted(imap.due_mailboxes()) == sorted([never.pk, old.pk])


def test_a_mail_that_cannot_be_stored_stays_unread_for_the_next_poll(
        dovecot: Dovecot, account: ImapUser, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    dovecot.deliver(account, mail("One"), mail("Two"), mail("Three"))
    real_receive = imap.receive_raw

    def flaky_receive(raw: bytes, **kwargs: Any) -> InboundEmail:
        if b"Subject: Two" in raw:
            raise OperationalError("database is locked")
        return real_receive(raw, **kwargs)

    monkeypatch.setattr(imap, "receive_raw", flaky_receive)
    message = poll(mailbox)
    assert message.startswith("2 new messages; 1 message could not be stored and stays unread on the server")
    assert "database is locked" in message
    mailbox.refresh_from_db()
    assert mailbox.last_poll_ok is False and mailbox.last_poll_message == message
    assert [seen for seen, _raw in dovecot.messages(account)] == [True, False, True]

    monkeypatch.setattr(imap, "receive_raw", real_receive)
    assert poll(mailbox) == "1 new message."
    stored = [raw_bytes(row.pk) for row in InboundEmail.objects.order_by("id")]
    assert [next(line for line in raw.split(b"\r\n") if line.startswith(b"Subject")) for raw in stored] == [
        b"Subject: One", b"Subject: Three", b"Subject: Two"]


def test_a_backlog_is_taken_in_batches_one_poll_after_the_other(
        dovecot: Dovecot, account: ImapUser, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap, "MAX_PER_POLL", 2)
    dovecot.deliver(account, mail("1"), mail("2"), mail("3"))
    assert poll(mailbox) == "2 new messages; more are waiting and follow at once (at most 2 per poll)."
    assert polls_enqueued(mailbox) == [{"mailbox_id": mailbox.pk, "force": True}]
    assert poll(mailbox) == "1 new message."
    assert len(polls_enqueued(mailbox)) == 1
    assert InboundEmail.objects.count() == 3


def test_a_mail_over_the_size_limit_is_left_on_the_server_and_reported(
        dovecot: Dovecot, account: ImapUser, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap, "MAX_RAW_BYTES", 2000)
    dovecot.deliver(account, mail("Small"), mail("Huge", body="x" * 3000))
    message = poll(mailbox)
    assert message.startswith("1 new message; 1 message larger than") and message.endswith("left unread on the server.")
    mailbox.refresh_from_db()
    assert mailbox.last_poll_ok is False
    assert [seen for seen, _raw in dovecot.messages(account)] == [True, False]


# -- what goes wrong is recorded, in words, and never raised ----------------------------------------


def test_a_wrong_password_is_recorded_not_raised(admin_actor: Actor, dovecot: Dovecot, account: ImapUser,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    mailbox = mailbox_for(admin_actor, dovecot, account, password="not-the-password-4711")
    dovecot.deliver(account, mail("Waiting"))
    with caplog.at_level(logging.DEBUG):
        message = poll(mailbox)
    assert message == "The server refused the user name or password ([AUTHENTICATIONFAILED] Authentication failed)."
    mailbox.refresh_from_db()
    assert (mailbox.last_poll_ok, mailbox.last_poll_message) == (False, message)
    assert InboundEmail.objects.count() == 0
    assert "not-the-password-4711" not in caplog.text
    assert [seen for seen, _raw in dovecot.messages(account)] == [False]


def test_a_server_that_is_down_is_recorded_not_raised(admin_actor: Actor, dovecot: Dovecot,
                                                      account: ImapUser) -> None:
    port = free_port()  # nothing listens there
    mailbox = mailbox_for(admin_actor, dovecot, account, port=port)
    message = poll(mailbox)
    assert message == (f"127.0.0.1:{port} refused the connection: check the port and that the IMAP server is "
                       f"running.")
    mailbox.refresh_from_db()
    assert (mailbox.last_poll_ok, mailbox.last_poll_message) == (False, message)


def test_a_missing_folder_is_recorded(admin_actor: Actor, dovecot: Dovecot, account: ImapUser) -> None:
    mailbox = mailbox_for(admin_actor, dovecot, account, folder="Tickets")
    assert poll(mailbox) == "The folder “Tickets” could not be opened (Mailbox doesn't exist: Tickets)."
    dovecot.deliver(account, mail("Filed by a rule"), folder="Tickets")
    assert poll(mailbox) == "1 new message."


def test_a_password_with_accents_logs_in(admin_actor: Actor, dovecot: Dovecot) -> None:
    user = dovecot.add_user(password="Grüße-aus-Köln-€")
    mailbox = mailbox_for(admin_actor, dovecot, user)
    dovecot.deliver(user, mail("Bonjour"))
    assert poll(mailbox) == "1 new message."


def test_a_mailbox_without_imap_is_not_polled(admin_actor: Actor) -> None:
    mailbox = create_mailbox(address="plain@acme-help.test", actor=admin_actor)
    assert poll(mailbox) == "not an IMAP mailbox"
    assert imap.poll_mailbox.call(mailbox_id=999_999) == "not an IMAP mailbox"


# -- the connection test ---------------------------------------------------------------------------


def test_the_connection_test_counts_and_leaves_mail_unread(dovecot: Dovecot, account: ImapUser,
                                                           mailbox: Mailbox) -> None:
    dovecot.deliver(account, mail("Read"), seen=True)
    dovecot.deliver(account, mail("Unread"))
    assert imap.test_connection(mailbox) == (True, "Connected: 2 messages in INBOX, 1 unread.")
    assert [seen for seen, _raw in dovecot.messages(account)] == [True, False]
    mailbox.refresh_from_db()
    assert mailbox.last_poll_at is None  # a test is not a poll


def test_the_connection_test_says_what_is_wrong(admin_actor: Actor, dovecot: Dovecot, account: ImapUser) -> None:
    wrong = mailbox_for(admin_actor, dovecot, account, password="wrong-password-0000")
    assert imap.test_connection(wrong) == (
        False, "The server refused the user name or password ([AUTHENTICATIONFAILED] Authentication failed).")
    wrong.imap_password, wrong.imap_folder = account.password, "Archive"
    assert imap.test_connection(wrong) == (
        False, "The folder “Archive” could not be opened (Mailbox doesn't exist: Archive).")
    wrong.imap_host = "no-such-host.invalid"
    ok, message = imap.test_connection(wrong)
    assert not ok and message == "The host name no-such-host.invalid could not be found: check it."


def test_a_server_that_never_answers_times_out(admin_actor: Actor, dovecot: Dovecot, account: ImapUser) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does), never greets
        silent.bind((HOST, 0))
        silent.listen()
        mailbox = mailbox_for(admin_actor, dovecot, account, port=silent.getsockname()[1])
        ok, message = imap.test_connection(mailbox, timeout=0.5)
    assert not ok
    assert message == (f"127.0.0.1:{mailbox.imap_port} did not answer within 0.5 seconds: check the host, the "
                       f"port and the security setting.")


# -- TLS -------------------------------------------------------------------------------------------


def test_tls_and_starttls_verify_the_certificate(admin_actor: Actor, dovecot: Dovecot, account: ImapUser,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    tls = mailbox_for(admin_actor, dovecot, account, security="ssl", port=dovecot.tls_port)
    starttls = mailbox_for(admin_actor, dovecot, account, address="starttls@acme-help.test", security="starttls")
    dovecot.deliver(account, mail("Over TLS"))
    # A self-signed certificate nobody trusts: refused, with the reason.
    for mailbox in (tls, starttls):
        ok, message = imap.test_connection(mailbox)
        assert not ok and message.startswith("The certificate of 127.0.0.1 could not be verified (self-signed")
    # Once it is trusted, both work.
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.ca_file))
    assert imap.test_connection(tls) == (True, "Connected: 1 message in INBOX, 1 unread.")
    assert imap.test_connection(starttls) == (True, "Connected: 1 message in INBOX, 1 unread.")
    assert poll(starttls) == "1 new message."


def test_a_security_setting_that_does_not_match_the_port_is_explained(
        admin_actor: Actor, dovecot: Dovecot, account: ImapUser) -> None:
    tls_on_plain_port = mailbox_for(admin_actor, dovecot, account, security="ssl", port=dovecot.port)
    ok, message = imap.test_connection(tls_on_plain_port)
    assert not ok and message.startswith(f"The TLS handshake with 127.0.0.1:{dovecot.port} failed")
    starttls_on_993 = mailbox_for(admin_actor, dovecot, account, address="s@acme-help.test", security="starttls",
                                  port=993)
    assert imap.test_connection(starttls_on_993) == (
        False, "Port 993 is for SSL/TLS: choose the security SSL/TLS, or STARTTLS on port 143.")


# -- IDLE ------------------------------------------------------------------------------------------


def test_idle_asks_for_a_poll_as_soon_as_mail_arrives(admin_actor: Actor, dovecot: Dovecot, account: ImapUser,
                                                       mailbox: Mailbox) -> None:
    other = dovecot.add_user()
    broken = mailbox_for(admin_actor, dovecot, other, address="broken@acme-help.test", password="wrong-password-1")
    arrived: queue.Queue[int] = queue.Queue()
    watchers = imap.start_idle(on_new_mail=arrived.put, refresh=0.2)
    try:
        watcher = wait_for_watcher(watchers, mailbox.pk)
        assert watcher.idling.wait(10)
        dovecot.deliver(account, mail("Right away"))
        assert arrived.get(timeout=10) == mailbox.pk
        broken_watcher = wait_for_watcher(watchers, broken.pk)
        assert broken_watcher.is_alive() and not broken_watcher.idling.is_set()  # retrying, quietly

        # A mailbox whose settings change gets a new connection; one removed loses it.
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_folder="inbox")
        replaced = wait_for_watcher(watchers, mailbox.pk, not_this=watcher)
        watcher.join(5)
        assert not watcher.is_alive() and replaced.is_alive()
        Mailbox.objects.filter(pk=broken.pk).delete()
        wait_until(lambda: watchers.watcher(broken.pk) is None)
    finally:
        watchers.stop()
    assert not watchers.is_alive()
    assert not any(thread.name.startswith("imap-idle") for thread in threading.enumerate())
    assert arrived.empty()


def test_new_mail_seen_in_idle_queues_a_poll_for_the_worker(dovecot: Dovecot, account: ImapUser,
                                                             mailbox: Mailbox) -> None:
    watchers = imap.start_idle(refresh=0.2)
    try:
        assert wait_for_watcher(watchers, mailbox.pk).idling.wait(10)
        dovecot.deliver(account, mail("Queue me"))
        wait_until(lambda: polls_enqueued(mailbox) == [{"mailbox_id": mailbox.pk, "force": True}])
    finally:
        watchers.stop()
    assert imap.poll_mailbox.call(**polls_enqueued(mailbox)[0]) == "1 new message."


def test_idle_ends_quietly_when_the_server_has_no_idle(mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imaplib.IMAP4, "capability", lambda self: ("OK", [b"IMAP4rev1 LITERAL+"]))
    watcher = imap.IdleWatcher(mailbox, on_new_mail=lambda pk: None)
    watcher.start()
    watcher.join(10)
    assert not watcher.is_alive() and watcher.unsupported


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    done = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError("timed out")


def wait_for_watcher(watchers: imap.IdleWatchers, mailbox_id: int, not_this: Any = None) -> imap.IdleWatcher:
    wait_until(lambda: watchers.watcher(mailbox_id) not in (None, not_this))
    found = watchers.watcher(mailbox_id)
    assert found is not None
    return found
