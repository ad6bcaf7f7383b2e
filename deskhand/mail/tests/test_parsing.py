"""Parsing mail from the wild: every charset trick ends as readable text, nothing raises."""

from __future__ import annotations

import base64
import time

from deskhand.mail.parsing import parse_mail
from deskhand.mail.tests.mails import make_mail


def test_a_plain_mail_gives_sender_subject_body_and_ids() -> None:
    mail = parse_mail(make_mail(message_id="<a1@acme-corp.example>", in_reply_to="<p@x>",
                                references="<r1@x> <p@x>"))
    assert mail.from_address == "zoe@acme-corp.example"
    assert mail.from_name == "Zoë Müller"
    assert mail.subject == "Printer on floor 2 is offline"
    assert "does not print" in mail.text
    assert mail.message_id == "<a1@acme-corp.example>"
    assert mail.thread_ids == ["<p@x>", "<r1@x>"]


def test_rfc2047_subject_and_name_in_latin1_and_windows_1252() -> None:
    raw = (b"From: =?iso-8859-1?Q?Fran=E7ois_P=EAna?= <fp@acme.example>\r\n"
           b"To: support@deskhand.test\r\n"
           b"Subject: =?windows-1252?Q?Rechnung_=80_100_=93dringend=94?=\r\n"
           b"Message-ID: <c1@acme.example>\r\n"
           b"Content-Type: text/plain; charset=windows-1252\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"Der Betrag =80 100 ist =93falsch=94 =96 bitte pr=FCfen.\r\n")
    mail = parse_mail(raw)
    assert mail.from_name == "François Pêna"
    assert mail.subject == "Rechnung € 100 “dringend”"
    assert mail.text.strip() == "Der Betrag € 100 ist “falsch” – bitte prüfen."


def test_latin1_labelled_mail_with_1252_quotes_is_not_mojibake() -> None:
    raw = (b"From: a@b.example\r\nSubject: =?ISO-8859-1?Q?Caf=E9?=\r\n"
           b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           b"\x93Caf\xe9\x94 na \xe6\xf8\xe5\r\n")
    mail = parse_mail(raw)
    assert mail.subject == "Café"
    assert mail.text.strip() == "“Café” na æøå"


def test_raw_8bit_headers_and_body_without_a_charset_are_guessed() -> None:
    raw = ("From: Jürgen Groß <jg@acme.example>\r\nSubject: Grüße aus Köln\r\n\r\nÄrger mit dem Drucker\r\n"
           .encode())
    mail = parse_mail(raw)
    assert mail.from_name == "Jürgen Groß"
    assert mail.subject == "Grüße aus Köln"
    assert mail.text.strip() == "Ärger mit dem Drucker"
    legacy = "Subject: Grüße\r\nFrom: x@y.example\r\n\r\nSchöne Grüße\r\n".encode("cp1252")
    mail = parse_mail(legacy)
    assert mail.subject == "Grüße"
    assert mail.text.strip() == "Schöne Grüße"


def test_unknown_charsets_and_broken_encoded_words_still_read() -> None:
    raw = (b"From: x@y.example\r\nSubject: =?x-unknown-klingon?Q?Hallo_Welt?=\r\n"
           b"Content-Type: text/plain; charset=klingon-8\r\n\r\nplain words\r\n")
    mail = parse_mail(raw)
    assert "Hallo" in mail.subject
    assert mail.text.strip() == "plain words"


def test_base64_garbage_null_bytes_and_control_characters_are_survived() -> None:
    raw = (b"From: x@y.example\r\nSubject: a\x00b\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
           b"Content-Type: text/plain\r\n\r\nhello\x00 there\x07\r\n--XX\r\n"
           b"Content-Type: application/pdf; name=broken.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"!!!! not base64 at all ####\r\n--XX--\r\n")
    mail = parse_mail(raw)
    assert mail.subject == "ab"
    assert mail.text.strip() == "hello there"
    assert [a.name for a in mail.attachments] == ["broken.pdf"]


def test_html_is_sanitized_and_a_text_version_is_made() -> None:
    html = ('<p onclick="steal()">Hi <b>team</b></p><script>alert(1)</script>'
            '<img src="x" onerror="alert(2)"><a href="javascript:alert(3)">link</a>'
            '<style>body{display:none}</style><iframe src="https://evil.example"></iframe>')
    raw = (b"From: x@y.example\r\nSubject: html only\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           + html.encode())
    mail = parse_mail(raw)
    for bad in ("<script", "onclick", "onerror", "javascript:", "<style", "<iframe", "alert(1)"):
        assert bad not in mail.html
    assert "<b>team</b>" in mail.html
    assert mail.text.startswith("Hi team")


def test_attachments_inline_images_and_nested_messages() -> None:
    inner = make_mail(subject="Original complaint", body="the forwarded text")
    raw = make_mail(html='<p>see <img src="cid:logo@x"></p>', attachments=[
        ("report.csv", b"a,b\n1,2\n", "text/csv"), ("forwarded.eml", inner, "message/rfc822")])
    mail = parse_mail(raw)
    names = [a.name for a in mail.attachments]
    assert "report.csv" in names
    assert any(a.content_type == "message/rfc822" for a in mail.attachments)
    assert "cid:logo@x" in mail.html
    csv = next(a for a in mail.attachments if a.name == "report.csv")
    assert csv.data == b"a,b\n1,2\n"


def test_rfc2231_and_encoded_attachment_names() -> None:
    data = base64.b64encode(b"%PDF-1.4").decode()
    raw = ("From: x@y.example\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee files\r\n"
           "--B\r\nContent-Type: application/pdf\r\n"
           "Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\r\n"
           f"Content-Transfer-Encoding: base64\r\n\r\n{data}\r\n"
           "--B\r\nContent-Type: application/pdf; name=\"=?utf-8?B?w6lsw6h2ZS5wZGY=?=\"\r\n"
           f"Content-Disposition: attachment; filename=\"=?utf-8?B?w6lsw6h2ZS5wZGY=?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{data}\r\n"
           "--B--\r\n").encode()
    mail = parse_mail(raw)
    assert [a.name for a in mail.attachments] == ["Rechnung März.pdf", "élève.pdf"]
    assert all(a.data == b"%PDF-1.4" for a in mail.attachments)


def test_missing_from_and_message_id_give_empty_values() -> None:
    mail = parse_mail(make_mail(sender="", message_id=""))
    assert mail.from_address == ""
    assert mail.message_id == ""


def test_huge_headers_and_ten_thousand_recipients_parse_quickly() -> None:
    recipients = ", ".join(f"person{n}@acme{n % 50}.example" for n in range(10_000))
    raw = (f"From: x@y.example\r\nTo: {recipients}\r\nSubject: {'long ' * 20_000}\r\n"
           f"X-Junk: {'=?utf-8?q?a?= ' * 5000}\r\n\r\nbody\r\n").encode()
    started = time.perf_counter()
    mail = parse_mail(raw)
    assert time.perf_counter() - started < 5
    assert len(mail.to) == 10_000
    assert mail.subject.startswith("long long")


def test_deeply_nested_multiparts_stop_at_a_depth() -> None:
    parts = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (n, n) for n in range(50))
    raw = b"From: x@y.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n" + parts + b"Content-Type: text/plain\r\n\r\nx\r\n"
    mail = parse_mail(raw)
    assert any("nested" in problem for problem in mail.problems)


def test_a_delivery_status_report_is_recognisable() -> None:
    raw = (b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
           b"--R\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
           b"--R\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--R--\r\n")
    mail = parse_mail(raw)
    assert mail.content_type == "multipart/report"
    assert mail.report_type == "delivery-status"


def test_encoded_words_folded_across_lines_join_without_a_space() -> None:
    raw = (b"From: =?utf-8?q?Zo=C3=AB?=\r\n =?utf-8?q?_M=C3=BCller?= <z@a.example>\r\n"
           b"Subject: =?utf-8?q?Drucker_funktioniert_ni?=\r\n =?utf-8?q?cht_mehr?=\r\n\r\nx\r\n")
    mail = parse_mail(raw)
    assert mail.subject == "Drucker funktioniert nicht mehr"
    assert mail.from_name == "Zoë Müller"
