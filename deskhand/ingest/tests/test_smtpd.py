"""The SMTP listener, talked to with smtplib as a real mail server would: 250 only once the mail
is stored, 451 when it cannot be, so that the sender keeps it and tries again."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.smtpd import start_listener
from deskhand.ingest.tests.conftest import free_port
from deskhand.mail.models import InboundEmail
from deskhand.mail.tests.mails import make_mail
from deskhand.work.models import Item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listener() -> Iterator[int]:
    port = free_port()
    controller: Controller = start_listener("127.0.0.1", port)
    try:
        yield port
    finally:
        controller.stop()


def test_a_mail_is_stored_before_250_and_becomes_a_ticket(listener: int) -> None:
    raw = make_mail(subject="Mail over SMTP")
    with smtplib.SMTP("127.0.0.1", listener) as client:
        code, answer = client.ehlo()
        assert code == 250
        assert client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], raw) == {}
    inbound = InboundEmail.objects.get()
    # Every byte kept, line ends and the final line break SMTP adds aside.
    assert bytes(inbound.raw).replace(b"\r\n", b"\n").rstrip(b"\n") == raw.rstrip(b"\n")
    assert inbound.transport == "smtp"
    assert inbound.envelope_from == "zoe@acme-corp.example"
    assert inbound.envelope_to == ["support@deskhand.test"]
    process_ids([inbound.pk])
    assert Item.objects.get().title == "Mail over SMTP"


def test_the_null_sender_of_a_bounce_is_recorded(listener: int) -> None:
    with smtplib.SMTP("127.0.0.1", listener) as client:
        client.sendmail("<>", ["support@deskhand.test"], make_mail(subject="Undeliverable"))
    inbound = InboundEmail.objects.get()
    assert inbound.envelope_from == "<>"
    process_ids([inbound.pk])
    inbound.refresh_from_db()
    assert inbound.status == "ignored" and "bounce" in inbound.reason


def test_when_the_mail_cannot_be_stored_the_answer_is_451(listener: int, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("deskhand.ingest.smtpd.receive_raw", broken)
    with smtplib.SMTP("127.0.0.1", listener) as client, pytest.raises(smtplib.SMTPDataError) as refused:
        client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], make_mail())
    assert refused.value.smtp_code == 451
    assert not InboundEmail.objects.exists()


def test_several_mails_on_one_connection_and_eight_bit_content(listener: int) -> None:
    legacy = ("From: Jörg <joerg@acme-corp.example>\r\nTo: support@deskhand.test\r\nSubject: Größe\r\n"
              "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
              "Die Größe stimmt nicht.\r\n.leading dot line\r\n").encode("latin-1")
    with smtplib.SMTP("127.0.0.1", listener) as client:
        for n in range(3):
            client.sendmail("a@acme-corp.example", ["support@deskhand.test"], make_mail(subject=f"Mail {n}"))
        client.sendmail("joerg@acme-corp.example", ["support@deskhand.test"], legacy)
    ids = list(InboundEmail.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) == 4
    process_ids(ids)
    titles = sorted(Item.objects.values_list("title", flat=True))
    assert titles == ["Größe", "Mail 0", "Mail 1", "Mail 2"]
    assert ".leading dot line" in Item.objects.get(title="Größe").description


def test_too_many_recipients_are_refused_politely(listener: int) -> None:
    with smtplib.SMTP("127.0.0.1", listener) as client:
        refused = client.sendmail("a@acme-corp.example", [f"r{n}@deskhand.test" for n in range(101)], make_mail())
    assert list(refused) == ["r100@deskhand.test"]
    assert len(InboundEmail.objects.get().envelope_to) == 100


def test_a_large_file_with_bare_lf_line_ends_is_taken_as_sent(listener: int) -> None:
    raw = make_mail(body="first line\n.starts with a dot\nlast", attachments=[
        ("big.bin", bytes(range(256)) * 8000, "application/octet-stream")])
    assert b"\r\n" not in raw
    with smtplib.SMTP("127.0.0.1", listener) as client:
        assert client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], raw) == {}
    inbound = InboundEmail.objects.get()
    assert bytes(inbound.raw).rstrip(b"\r\n") == raw.rstrip(b"\n")
    process_ids([inbound.pk])
    item = Item.objects.get()
    assert item.description == "first line\n.starts with a dot\nlast"
    assert item.messages.get().attachments.get().size == 256 * 8000


def test_with_a_drainer_in_the_process_mail_is_filed_at_once_without_tasks(listener: int) -> None:
    from django_tasks_db.models import DBTaskResult

    from deskhand.ingest.drain import start_drainer, stop_drainer

    start_drainer()
    try:
        with smtplib.SMTP("127.0.0.1", listener) as client:
            for n in range(5):
                client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], make_mail(subject=f"Fast {n}"))
        deadline = time.monotonic() + 10
        while InboundEmail.objects.filter(status="received").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop_drainer()
    assert sorted(InboundEmail.objects.values_list("status", flat=True)) == ["processed"] * 5
    assert Item.objects.count() == 5
    assert not DBTaskResult.objects.filter(task_path__endswith="process_inbound").exists()
