"""The SMTP listener, talked to with smtplib as a real mail server would: 250 only once the mail
is stored, 451 when it cannot be, so that the sender keeps it and tries again."""

from __future__ import annotations

import io
import os
import re
import smtplib
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from deskhand.conf import conf
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.smtp_tls import self_signed_pair, tls_context
from deskhand.ingest.smtpd import DataStream, start_listener
from deskhand.ingest.tests.conftest import free_port
from deskhand.mail.models import InboundEmail
from deskhand.mail.queries import raw_bytes
from deskhand.mail.services import ensure_mailboxes
from deskhand.mail.tests.mails import make_mail
from deskhand.work.models import Item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[int]:
    ensure_mailboxes(["support@deskhand.test"], actor=SYSTEM)
    port = free_port()
    controller: Controller = start_listener("127.0.0.1", port, tls=False, spool_dir=tmp_path)
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
    assert raw_bytes(inbound.pk).replace(b"\r\n", b"\n").rstrip(b"\n") == raw.rstrip(b"\n")
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

    monkeypatch.setattr("deskhand.ingest.smtpd.receive_files", broken)
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
    update_settings({"smtp_catch_all_domains": ["deskhand.test"]}, actor=SYSTEM)
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
    assert raw_bytes(inbound.pk).rstrip(b"\r\n") == raw.rstrip(b"\n")
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


# --- Hardening (issue 11): what a listener on the open internet must hold ---------------------


def _old_aiosmtpd_data(wire: bytes) -> bytes:
    """What the listener stored before issue 11 (aiosmtpd's line reader, then the bare-LF fix),
    for pure CRLF and pure bare-LF mail: the new chunked reader must store the same bytes."""
    body = wire[: wire.index(b"\r\n.\r\n") + 2] if not wire.startswith(b".\r\n") else b""
    lines = body.split(b"\r\n")[:-1]
    raw = b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n" for line in lines)
    if b"\r\n" not in raw[:-2]:
        raw = raw.replace(b"\n..", b"\n.")
    return raw


def _wire(raw: bytes) -> bytes:
    """What smtplib sends for `raw` after DATA."""
    quoted = re.sub(rb"(?m)^\.", b"..", raw)
    if not quoted.endswith(b"\r\n"):
        quoted += b"\r\n"
    return quoted + b".\r\n"


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("raw", [
    b"Subject: a\r\n\r\n.one dot\r\n..two dots\r\n.\r\n\r\nend\r\n",
    b"Subject: a\n\n.one dot\n..two dots\n.\n\nend",
    b"Subject: a\r\n\r\nno final line break",
    b".starts with a dot\r\n\r\nx\r\n",
    b"Subject: b\n\n" + bytes(range(256)) * 50 + b"\n.\r\n.x\n",
    b"Subject: c\r\n\r\nbare CR\r here\r\r\n.\r.\r\n",
])
def test_chunked_data_reading_stores_what_the_line_reader_stored(raw: bytes) -> None:
    wire = _wire(raw) + b"MAIL FROM:<next@example.com>\r\n"
    expected = raw if raw.endswith(b"\r\n") else raw + b"\r\n"  # as sent, SMTP's final line break aside
    if b"\n.\r\n" not in raw:
        assert _old_aiosmtpd_data(wire) == expected
    # else a mix of LF and CRLF lines, where the old reader kept the sender's doubled dot
    for size in (1, 2, 3, 5, 7, 64, len(wire)):
        sink = io.BytesIO()
        stream = DataStream(sink, limit=10**9)
        rest = None
        for start in range(0, len(wire), size):
            rest = stream.feed(wire[start:start + size])
            if rest is not None:
                rest += wire[start + size:]
                break
        assert sink.getvalue() == expected, size
        assert rest == b"MAIL FROM:<next@example.com>\r\n"


def test_mail_for_an_address_that_is_no_ticket_address_is_refused(listener: int) -> None:
    from deskhand.customers.models import Organization

    with smtplib.SMTP("127.0.0.1", listener) as client:
        client.ehlo()
        client.mail("spam@nowhere.example")
        code, answer = client.rcpt("nobody@nowhere.test")
        assert (code, answer) == (550, b"5.1.1 <nobody@nowhere.test>: no such ticket address")
        assert client.rcpt("SUPPORT@Deskhand.Test")[0] == 250  # ticket addresses in any case
        client.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("spam@nowhere.example", ["nobody@nowhere.test"], make_mail(sender="spam@nowhere.example"))
    assert not InboundEmail.objects.exists()
    assert not Organization.objects.exists()


def test_support_addresses_from_the_environment_and_catch_all_domains_take_mail(
    listener: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conf, "support_addresses", "help@deskhand.test")
    with smtplib.SMTP("127.0.0.1", listener) as client:
        client.ehlo()
        client.mail("ana@acme.example")
        assert client.rcpt("Help@deskhand.test")[0] == 250
        assert client.rcpt("sales@catchall.test")[0] == 550
        update_settings({"smtp_catch_all_domains": ["CatchAll.test"]}, actor=SYSTEM)  # read fresh: no restart
        assert client.rcpt("sales@catchall.test")[0] == 250
        assert client.rcpt("sales@other.test")[0] == 550


def test_a_command_line_beyond_the_rfc_limit_is_refused_and_the_session_goes_on(listener: int) -> None:
    with socket.create_connection(("127.0.0.1", listener), timeout=10) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220")
        sock.sendall(b"EHLO " + b"x" * (4 * 1024 * 1024) + b"\r\n")  # 4 MB without a line end first
        assert reader.readline() == b"500 Command line too long\r\n"
        sock.sendall(b"NOOP\r\n")
        assert reader.readline().startswith(b"250")


def test_a_large_mail_is_spooled_to_disk_and_stored_byte_for_byte(
    listener: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deskhand.ingest import smtpd

    seen: list[tuple[bool, str]] = []
    store = smtpd.receive_files

    def spy(mails: list[Any], **kwargs: Any) -> list[int]:
        for mail in mails:
            spool = mail.spool
            where = os.readlink(f"/proc/self/fd/{spool.fileno()}") if spool._rolled else ""  # an unnamed temporary file
            seen.append((spool._rolled, where))
        return store(mails, **kwargs)

    monkeypatch.setattr(smtpd, "receive_files", spy)
    big = make_mail(attachments=[("big.bin", bytes(range(256)) * 12000, "application/octet-stream")])
    small = make_mail(subject="Small")
    with smtplib.SMTP("127.0.0.1", listener) as client:
        client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], big)
        client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], small)
    assert seen[0][0] and seen[0][1].startswith(str(tmp_path))  # beyond 1 MB: a file in the spool folder
    assert not seen[1][0]  # a small mail stays in memory
    stored = [raw_bytes(pk) for pk in InboundEmail.objects.order_by("id").values_list("pk", flat=True)]
    assert stored == [_old_aiosmtpd_data(_wire(big)), _old_aiosmtpd_data(_wire(small))]
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_a_mail_over_the_size_limit_gets_552_and_the_session_goes_on(tmp_path: Path) -> None:
    ensure_mailboxes(["support@deskhand.test"], actor=SYSTEM)
    port = free_port()
    controller = start_listener("127.0.0.1", port, tls=False, spool_dir=tmp_path, size_limit=100_000)
    try:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            client.mail("zoe@acme-corp.example")  # no SIZE= announced: found while reading
            client.rcpt("support@deskhand.test")
            code, _ = client.data(b"Subject: x\n\n" + b"y" * 200_000)
            assert code == 552
            client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], make_mail(subject="Fits"))
    finally:
        controller.stop()
    assert InboundEmail.objects.get().subject == "" and b"Subject: Fits" in raw_bytes(InboundEmail.objects.get().pk)


def test_pipelining_is_advertised_and_commands_after_the_data_are_kept(listener: int) -> None:
    with smtplib.SMTP("127.0.0.1", listener) as client:
        client.ehlo()
        assert client.has_extn("pipelining") and client.has_extn("8bitmime")
    with socket.create_connection(("127.0.0.1", listener), timeout=10) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b"EHLO client.example\r\n")
        while not reader.readline().startswith(b"250 "):
            pass
        envelope = b"MAIL FROM:<zoe@acme-corp.example>\r\nRCPT TO:<support@deskhand.test>\r\nDATA\r\n"
        sock.sendall(envelope)
        assert [reader.readline()[:3] for _ in range(3)] == [b"250", b"250", b"354"]
        # The end of one mail, the next mail's commands, all in one packet.
        sock.sendall(b"Subject: one\r\n\r\nfirst\r\n.\r\n" + envelope)
        assert [reader.readline()[:3] for _ in range(4)] == [b"250", b"250", b"250", b"354"]
        sock.sendall(b"Subject: two\r\n\r\nsecond\r\n.\r\nQUIT\r\n")
        assert [reader.readline()[:3] for _ in range(2)] == [b"250", b"221"]
    assert [raw_bytes(pk) for pk in InboundEmail.objects.order_by("id").values_list("pk", flat=True)] == [
        b"Subject: one\r\n\r\nfirst\r\n", b"Subject: two\r\n\r\nsecond\r\n"]


def _wait_until(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_sessions_are_capped_overall_and_per_client_address(tmp_path: Path) -> None:
    ensure_mailboxes(["support@deskhand.test"], actor=SYSTEM)
    port = free_port()
    controller = start_listener("127.0.0.1", port, tls=False, spool_dir=tmp_path, max_sessions=3, per_client=2)
    _wait_until(lambda: controller.gate.total == 0)  # the controller's own start-up probe has left
    open_sessions: list[smtplib.SMTP] = []
    try:
        for source in ("127.0.0.1", "127.0.0.1", "127.0.0.2"):
            open_sessions.append(smtplib.SMTP("127.0.0.1", port, source_address=(source, 0)))
        for source in ("127.0.0.1", "127.0.0.3"):  # that client's third, then anyone's fourth
            with pytest.raises(smtplib.SMTPConnectError) as refused:
                smtplib.SMTP("127.0.0.1", port, source_address=(source, 0))
            assert refused.value.smtp_code == 421
            assert refused.value.smtp_error == b"4.7.0 Too many connections, try again later"
        open_sessions.pop(0).quit()
        _wait_until(lambda: controller.gate.total == 2)
        with smtplib.SMTP("127.0.0.1", port) as client:  # a freed place is taken again
            assert client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], make_mail()) == {}
    finally:
        for session in open_sessions:
            session.close()
        controller.stop()


@pytest.mark.parametrize("phase", ["command", "data"])
def test_a_client_trickling_one_byte_at_a_time_is_dropped(tmp_path: Path, phase: str) -> None:
    ensure_mailboxes(["support@deskhand.test"], actor=SYSTEM)
    port = free_port()
    controller = start_listener("127.0.0.1", port, tls=False, spool_dir=tmp_path, command_timeout=1.0,
                                data_timeout=1.5)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            reader = sock.makefile("rb")
            reader.readline()
            if phase == "data":
                sock.sendall(b"HELO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<support@deskhand.test>\r\nDATA\r\n")
                assert [reader.readline()[:3] for _ in range(4)] == [b"250", b"250", b"250", b"354"]
            started = time.monotonic()
            with pytest.raises(OSError):  # noqa: PT012 - the byte loop is the client
                for _ in range(100):  # 20 s of one byte every 0.2 s, if nobody stops it
                    sock.sendall(b"x")
                    time.sleep(0.2)
            assert time.monotonic() - started < 4
            assert reader.read().startswith(b"421 4.4.2")
    finally:
        controller.stop()
    assert not InboundEmail.objects.exists()


def test_starttls_with_the_self_signed_certificate_made_in_the_data_directory(tmp_path: Path) -> None:
    ensure_mailboxes(["support@deskhand.test"], actor=SYSTEM)
    context = tls_context(cert="", key="", data_dir=tmp_path, hostname="mx.deskhand.test")
    key_file = tmp_path / "smtp-tls" / "key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    made = key_file.read_bytes()
    tls_context(cert="", key="", data_dir=tmp_path)
    assert key_file.read_bytes() == made  # made once, then kept
    port = free_port()
    controller = start_listener("127.0.0.1", port, tls=context, spool_dir=tmp_path / "spool")
    try:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            client.starttls()  # senders on the internet do not verify an MX certificate
            client.ehlo()
            assert not client.has_extn("starttls") and client.has_extn("pipelining")
            assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
            assert client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], make_mail(subject="Secret")) == {}
    finally:
        controller.stop()
    assert b"Subject: Secret" in raw_bytes(InboundEmail.objects.get().pk)


@pytest.mark.django_db(transaction=False)
def test_a_configured_certificate_is_used_and_half_a_configuration_refused(tmp_path: Path) -> None:
    cert, key = self_signed_pair(tmp_path / "mine", hostname="mx.example.com")
    context = tls_context(cert=str(cert), key=str(key), data_dir=tmp_path)
    assert context.get_ca_certs() == [] and not (tmp_path / "smtp-tls").exists()
    with pytest.raises(ValueError, match="both"):
        tls_context(cert=str(cert), key="", data_dir=tmp_path)
    with pytest.raises(ValueError, match="does not load"):
        tls_context(cert=str(key), key=str(cert), data_dir=tmp_path)


def test_lines_without_an_end_are_not_held_in_memory(tmp_path: Path) -> None:
    """20 MB without a line break, as a command and as message data over the size limit: the
    listener holds a few kilobytes of it at a time (before issue 11 it held all of it)."""
    import tracemalloc

    ensure_mailboxes(["support@deskhand.test"], actor=SYSTEM)
    port = free_port()
    controller = start_listener("127.0.0.1", port, tls=False, spool_dir=tmp_path, size_limit=1_000_000)
    piece = b"x" * (256 * 1024)
    tracemalloc.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            reader = sock.makefile("rb")
            reader.readline()
            for _ in range(80):
                sock.sendall(piece)
            sock.sendall(b"\r\n")
            assert reader.readline() == b"500 Command line too long\r\n"
            sock.sendall(b"HELO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<support@deskhand.test>\r\nDATA\r\n")
            assert [reader.readline()[:3] for _ in range(4)] == [b"250", b"250", b"250", b"354"]
            for _ in range(80):
                sock.sendall(piece)
            sock.sendall(b"\r\n.\r\n")
            assert reader.readline()[:3] == b"552"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        controller.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_mail_from_parallel_connections_is_stored_together_each_with_its_own_id(
    listener: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deskhand.ingest import smtpd

    groups: list[int] = []
    store = smtpd.receive_files

    def counting(mails: list[Any], **kwargs: Any) -> list[int]:
        groups.append(len(mails))
        return store(mails, **kwargs)

    monkeypatch.setattr(smtpd, "receive_files", counting)
    answers: dict[str, int] = {}

    def sender(number: int) -> None:
        with smtplib.SMTP("127.0.0.1", listener) as client:
            client.ehlo("sender.example")
            for n in range(10):
                subject = f"Sender {number} mail {n}"
                client.mail("zoe@acme-corp.example")
                client.rcpt("support@deskhand.test")
                code, reply = client.data(make_mail(subject=subject))
                assert code == 250
                found = re.search(rb"accepted as (\d+)", reply)
                assert found
                answers[subject] = int(found.group(1))

    threads = [threading.Thread(target=sender, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 60 and len(set(answers.values())) == 60
    for subject, pk in answers.items():  # each 250 names the row that holds that very mail
        assert f"Subject: {subject}".encode() in raw_bytes(pk)
    assert sum(groups) == 60


def test_a_mail_that_cannot_be_stored_fails_alone_and_its_group_is_stored(transactional_db: None, tmp_path: Path) -> None:
    import asyncio

    from deskhand.ingest.receive import SpooledMail
    from deskhand.ingest.smtpd import GroupStore

    good = [io.BytesIO(make_mail(subject=f"Good {n}")) for n in range(3)]
    class Unreadable(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("I/O error")  # reading it fails inside the group's transaction

    broken = Unreadable(b"x")
    store = GroupStore(journal=tmp_path)

    async def send_all() -> list[Any]:
        mails = [SpooledMail(spool, len(spool.getvalue()), "zoe@acme-corp.example", ("support@deskhand.test",))
                 for spool in good[:2]]
        mails.insert(1, SpooledMail(broken, 1, "zoe@acme-corp.example", ("support@deskhand.test",)))
        mails.append(SpooledMail(good[2], len(good[2].getvalue())))
        answers = [store.store(mail) for mail in mails]  # queued before the thread runs: one group
        store.start()
        return await asyncio.gather(*answers, return_exceptions=True)

    try:
        results = asyncio.run(send_all())
    finally:
        store.stop()
    assert isinstance(results[1], OSError) and str(results[1]) == "I/O error"
    stored = [result for result in results if isinstance(result, int)]
    assert len(stored) == 3
    assert sorted(InboundEmail.objects.values_list("pk", flat=True)) == sorted(stored)


def _database_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import OperationalError

    from deskhand.ingest import smtpd

    def busy(mails: list[Any]) -> list[int]:
        raise OperationalError("database is locked")

    monkeypatch.setattr(smtpd, "store_mails", busy)


def test_when_the_database_is_busy_mail_is_journaled_answered_and_moved_in_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ensure_mailboxes(["support@deskhand.test"], actor=SYSTEM)
    _database_busy(monkeypatch)
    journal = tmp_path / "journal"
    journal.mkdir()
    port = free_port()
    controller = start_listener("127.0.0.1", port, tls=False, spool_dir=tmp_path, journal=journal)
    try:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            replies = []
            for subject in ("First", "Second"):
                client.mail("zoe@acme-corp.example")
                client.rcpt("support@deskhand.test")
                code, reply = client.data(make_mail(subject=subject))
                assert code == 250
                replies.append(reply.decode())
        assert all(re.search(r"accepted as \S+\.mails:\d", reply) for reply in replies), replies
        deadline = time.monotonic() + 10
        while InboundEmail.objects.count() < 2:
            assert time.monotonic() < deadline, "the journal was not moved into the database"
            time.sleep(0.05)
    finally:
        controller.stop()
    rows = list(InboundEmail.objects.order_by("id"))
    assert [row.envelope_to for row in rows] == [["support@deskhand.test"]] * 2
    assert all(row.journal_key and row.envelope_from == "zoe@acme-corp.example" for row in rows)
    assert b"Subject: First" in raw_bytes(rows[0].pk) and b"Subject: Second" in raw_bytes(rows[1].pk)
    assert list(journal.glob("*.mails")) == []  # moved, then deleted
    process_ids([row.pk for row in rows])
    assert sorted(Item.objects.values_list("title", flat=True)) == ["First", "Second"]


def test_a_journal_file_moved_twice_adds_its_mail_once(transactional_db: None, tmp_path: Path) -> None:
    from deskhand.ingest.journal import append, read_file
    from deskhand.ingest.receive import SpooledMail, receive_files
    from deskhand.ingest.smtpd import JournalMover

    big = make_mail(attachments=[("big.bin", os.urandom(2 * 1024 * 1024), "application/octet-stream")])
    raws = [make_mail(subject="Small"), big]
    [first, _] = append(tmp_path, [SpooledMail(io.BytesIO(raw), len(raw), "zoe@acme-corp.example",
                                               ("support@deskhand.test",)) for raw in raws])
    [path] = tmp_path.glob("*.mails")
    with read_file(path) as entries:  # a first move committed the small mail, then the process died
        receive_files([entries[0][1]], transport="smtp", keys=[entries[0][0]])
    assert JournalMover(tmp_path).move_all() == 1
    rows = list(InboundEmail.objects.order_by("id"))
    assert [row.journal_key for row in rows] == [first, first.replace(":0", ":1")]
    assert [raw_bytes(row.pk) for row in rows] == raws  # byte for byte, the large one streamed in place
    assert not path.exists()


def test_a_broken_journal_file_is_kept_aside_and_the_others_are_moved(transactional_db: None, tmp_path: Path) -> None:
    from deskhand.ingest.journal import append
    from deskhand.ingest.receive import SpooledMail
    from deskhand.ingest.smtpd import JournalMover

    (tmp_path / "00000000000000000001-1-00000001.mails").write_bytes(b"DESKHAND-JOURNAL 1\n12 999999\n{}")
    raw = make_mail(subject="Fine")
    append(tmp_path, [SpooledMail(io.BytesIO(raw), len(raw))])
    assert JournalMover(tmp_path).move_all() == 1
    assert InboundEmail.objects.count() == 1
    assert [path.name for path in (tmp_path / "broken").iterdir()] == ["00000000000000000001-1-00000001.mails"]


def test_when_neither_the_database_nor_the_journal_can_keep_a_mail_the_answer_is_451(
    listener: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deskhand.ingest import smtpd

    _database_busy(monkeypatch)

    def disk_full(*args: Any) -> list[str]:
        raise OSError("No space left on device")

    monkeypatch.setattr(smtpd, "append", disk_full)
    with smtplib.SMTP("127.0.0.1", listener) as client, pytest.raises(smtplib.SMTPDataError) as refused:
        client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], make_mail())
    assert refused.value.smtp_code == 451
    assert not InboundEmail.objects.exists()


def test_an_envelope_address_with_bytes_that_are_not_utf8_is_stored_readable(listener: int) -> None:
    with socket.create_connection(("127.0.0.1", listener), timeout=10) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220")
        sock.sendall(b"EHLO sender.example\r\n")
        while not reader.readline().startswith(b"250 "):
            pass
        sock.sendall(b"MAIL FROM:<j\xf6rg@acme-corp.example>\r\n")
        assert reader.readline().startswith(b"250")
        sock.sendall(b"RCPT TO:<support@deskhand.test>\r\n")
        assert reader.readline().startswith(b"250")
        sock.sendall(b"DATA\r\n")
        assert reader.readline().startswith(b"354")
        sock.sendall(make_mail(subject="Latin-1 envelope").replace(b"\n", b"\r\n") + b"\r\n.\r\n")
        assert reader.readline().startswith(b"250")
    inbound = InboundEmail.objects.get()
    assert inbound.envelope_from == "j\ufffdrg@acme-corp.example"


def test_a_journal_file_that_fails_for_another_reason_is_put_aside_and_the_rest_are_moved(
    transactional_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deskhand.ingest import smtpd
    from deskhand.ingest.journal import append
    from deskhand.ingest.receive import SpooledMail

    for subject in ("First", "Poison", "Last"):
        raw = make_mail(subject=subject)
        append(tmp_path, [SpooledMail(io.BytesIO(raw), len(raw), "zoe@acme-corp.example", ("support@deskhand.test",))])
    real = smtpd.receive_files

    def picky(mails: list[Any], **kwargs: Any) -> list[int]:
        for mail in mails:
            mail.spool.seek(0)
            if b"Subject: Poison" in mail.spool.read():
                raise UnicodeEncodeError("utf-8", "x", 0, 1, "surrogates not allowed")
        return real(mails, **kwargs)

    monkeypatch.setattr(smtpd, "receive_files", picky)
    assert smtpd.JournalMover(tmp_path).move_all() == 2
    subjects = sorted(raw_bytes(pk).split(b"Subject: ")[1].split(b"\n")[0].strip()
                      for pk in InboundEmail.objects.values_list("pk", flat=True))
    assert subjects == [b"First", b"Last"]
    assert len(list((tmp_path / "broken").iterdir())) == 1 and not list(tmp_path.glob("*.mails"))


def test_two_listeners_on_one_data_directory_move_each_journal_file_once(transactional_db: None,
                                                                         tmp_path: Path) -> None:
    """`deskhand smtpd` twice on one host: their movers meet in one journal; each file goes in once."""
    from deskhand.ingest.journal import append
    from deskhand.ingest.receive import SpooledMail
    from deskhand.ingest.smtpd import JournalMover

    for group in range(12):
        raws = [make_mail(subject=f"Group {group} mail {n}") for n in range(3)]
        append(tmp_path, [SpooledMail(io.BytesIO(raw), len(raw), "zoe@acme-corp.example", ("support@deskhand.test",))
                          for raw in raws])
    movers = [JournalMover(tmp_path), JournalMover(tmp_path)]
    start = threading.Barrier(2)
    moved: list[int] = []

    def move(mover: JournalMover) -> None:
        start.wait()
        try:
            moved.append(mover.move_all())
        finally:
            from django.db import connections

            connections.close_all()

    threads = [threading.Thread(target=move, args=(mover,)) for mover in movers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(moved) == 12
    raws = [raw_bytes(pk) for pk in InboundEmail.objects.values_list("pk", flat=True)]
    assert len(raws) == len(set(raws)) == 36
    assert not list(tmp_path.glob("*.mails")) and not (tmp_path / "broken").exists()


def test_two_listeners_share_one_port_and_both_take_mail(transactional_db: None, tmp_path: Path) -> None:
    ensure_mailboxes(["support@deskhand.test"], actor=SYSTEM)
    port = free_port()
    listeners = [start_listener("127.0.0.1", port, tls=False, spool_dir=tmp_path / str(n), reuse_port=True,
                                journal=tmp_path / f"journal-{n}") for n in range(2)]
    try:
        for n in range(20):
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], make_mail(subject=f"Shared {n}"))
        listeners[0].stop()
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:  # the other goes on alone
            client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], make_mail(subject="After"))
    finally:
        listeners[1].stop()
    assert InboundEmail.objects.count() == 21


def test_with_the_task_queue_down_a_stored_mail_is_still_answered_250(listener: int,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`deskhand smtpd` on its own (no drainer to wake) with Redis restarting: the mail is stored,
    so it is answered 250; the workers' drainers and the scheduler's sweep file it later."""
    from types import SimpleNamespace

    from redis.exceptions import ConnectionError as RedisConnectionError

    from deskhand.ingest import receive

    def queue_down(**kwargs: Any) -> None:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(receive, "notify", lambda: False)
    monkeypatch.setattr(receive, "process_inbound", SimpleNamespace(enqueue=queue_down))
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as client:
        refused = client.sendmail("zoe@acme-corp.example", ["support@deskhand.test"], make_mail(subject="Queue down"))
    assert refused == {}
    assert InboundEmail.objects.filter(status="received").count() == 1
