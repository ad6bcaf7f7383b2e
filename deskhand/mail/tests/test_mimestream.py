"""Large mail read as a stream: the same result as the whole-mail parser, in bounded memory."""

from __future__ import annotations

import base64
import io
import tracemalloc
from email.message import EmailMessage
from typing import Any

import pytest

from deskhand.mail import mimestream, parsing
from deskhand.mail.parsing import ParsedMail, parse_mail, parse_mail_file
from deskhand.mail.tests.mails import make_mail

MB = 1024 * 1024


@pytest.fixture
def stream_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny thresholds, so that the test mails below take the streaming path and spool each body."""
    monkeypatch.setattr(parsing, "STREAM_ABOVE", 0)
    monkeypatch.setattr(mimestream, "SKELETON_BUDGET", 0)
    monkeypatch.setattr(mimestream, "SMALL_BODY", 0)


def streamed(raw: bytes) -> ParsedMail:
    return parse_mail_file(io.BytesIO(raw), size=len(raw))


def summary(mail: ParsedMail) -> dict[str, Any]:
    def content(part: parsing.MailAttachment) -> bytes:
        value = part.content
        return value if isinstance(value, bytes) else value.read()
    return {
        "message_id": mail.message_id, "subject": mail.subject, "from": (mail.from_name, mail.from_address),
        "to": mail.to, "cc": mail.cc, "text": mail.text.strip(), "html": mail.html.strip(),
        "attachments": [(a.name, a.content_type, a.inline, a.content_id, content(a)) for a in mail.attachments],
    }


PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40
MAILS = {
    "plain text": make_mail(body="Grüße aus Zagreb,\nthe VPN drops every hour.\n\n-- \nAna"),
    "text and html": make_mail(body="Plain part", html="<p>HTML <b>part</b><script>alert(1)</script></p>"),
    "attachments": make_mail(attachments=[("report.pdf", PDF, "application/pdf"),
                                          ("log.txt", b"line 1\nline 2\n", "text/plain"),
                                          ("empty.bin", b"", "application/octet-stream")]),
    "quoted-printable": (b"From: ana@acme.example\r\nTo: support@deskhand.test\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
                         b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                         b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                         b"Gr=C3=BC=C3=9Fe, a soft=\r\n break and =3D sign.\r\n"),
}


@pytest.mark.parametrize("name", list(MAILS))
def test_a_streamed_mail_reads_as_the_whole_mail_does(name: str, stream_everything: None) -> None:
    raw = MAILS[name]
    mail = streamed(raw)
    try:
        assert summary(mail) == summary(parse_mail(raw))
    finally:
        mail.close()


def test_a_forwarded_mail_inside_a_large_mail_is_an_attachment_named_by_its_subject(stream_everything: None) -> None:
    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "ana@acme.example", "support@deskhand.test", "Fwd: invoice"
    outer.set_content("See below.")
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "billing@vendor.example", "Invoice 2026-11"
    inner.set_content("Please pay.")
    outer.add_attachment(inner)
    mail = streamed(bytes(outer))
    try:
        assert mail.text.strip() == "See below."
        [attachment] = mail.attachments
        assert attachment.name == "Invoice 2026-11.eml" and attachment.content_type == "message/rfc822"
        data = attachment.content
        assert not isinstance(data, bytes) and b"Please pay." in data.read()
    finally:
        mail.close()


def test_a_mail_cannot_point_a_part_at_a_spool_of_its_own(stream_everything: None) -> None:
    raw = make_mail(headers={"X-Deskhand-Spool-0000000000000000": "0"},
                    attachments=[("a.txt", b"secret of another part", "text/plain")])
    mail = streamed(raw.replace(b"X-Deskhand-Spool-0000000000000000", b"X-Deskhand-Spool"))
    try:
        assert [a.name for a in mail.attachments] == ["a.txt"]
        assert mail.text.startswith("Hello,")
    finally:
        mail.close()


def base64_mail(size: int) -> bytes:
    line = base64.b64encode(bytes(range(57))) + b"\r\n"
    return (b"From: ana@acme.example\r\nTo: support@deskhand.test\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
            b"The dump is attached.\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment; filename=\"dump.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + line * (size // len(line)) + b"--b1--\r\n")


def test_a_large_attachment_is_decoded_to_a_file_and_never_held_in_memory() -> None:
    raw = base64_mail(20 * MB)
    tracemalloc.start()
    try:
        mail = parse_mail_file(io.BytesIO(raw), size=len(raw))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    try:
        assert mail.text == "The dump is attached."
        [dump] = mail.attachments
        content = dump.content
        assert dump.name == "dump.bin" and not isinstance(content, bytes)
        data = content.read()
        assert len(data) == (20 * MB // 78) * 57 and data[:57] == bytes(range(57))
        assert peak < 12 * MB  # the 20 MB mail itself is not counted: it was allocated before
    finally:
        mail.close()


def test_a_huge_text_body_gives_its_head_as_text_and_all_of_it_as_utf8() -> None:
    line = "Zeile mit Umlauten äöü, ein Protokoll\r\n".encode("latin-1")
    raw = (b"From: ana@acme.example\r\nSubject: log\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"
           + line * (6 * MB // len(line)))
    mail = parse_mail_file(io.BytesIO(raw), size=len(raw))
    try:
        assert mail.text.startswith("Zeile mit Umlauten äöü") and len(mail.text) <= parsing.TEXT_HEAD
        assert mail.full_text is not None
        whole = mail.full_text.read().decode("utf-8")
        assert whole.count("äöü") == 6 * MB // len(line)
    finally:
        mail.close()
    assert mail.full_text.closed


def test_a_line_of_60_mb_is_read_in_pieces() -> None:
    raw = b"From: ana@acme.example\r\nSubject: no newline\r\n\r\n" + b"A" * (60 * MB)
    tracemalloc.start()
    try:
        mail = parse_mail_file(io.BytesIO(raw), size=len(raw))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    try:
        assert mail.subject == "no newline" and mail.text.startswith("AAAA")
        assert peak < 12 * MB
    finally:
        mail.close()


def test_a_monster_header_line_is_cut_and_the_mail_still_read() -> None:
    raw = (b"From: ana@acme.example\r\nX-Junk: " + b"j" * (5 * MB) + b"\r\nSubject: after the junk\r\n\r\nBody\r\n"
           + b"x" * (5 * MB))
    mail = parse_mail_file(io.BytesIO(raw), size=len(raw))
    try:
        assert mail.subject == "after the junk" and mail.from_address == "ana@acme.example"
        assert "a header line longer than 64 KB was cut" in mail.problems
    finally:
        mail.close()


def test_a_mail_of_thousands_of_parts_keeps_the_first_ones(stream_everything: None) -> None:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"f%d.txt\"\r\n\r\n"
                     b"part %d\r\n" % (n, n) for n in range(1000))
    raw = (b"From: ana@acme.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + parts + b"--b--\r\n")
    mail = streamed(raw)
    try:
        assert 0 < len(mail.attachments) <= parsing.MAX_PARTS
        assert mail.attachments[0].name == "f0.txt"
        assert any("left out" in problem for problem in mail.problems)
    finally:
        mail.close()
