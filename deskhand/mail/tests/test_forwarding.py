"""Recognising forwarding confirmations (Gmail, Outlook / Microsoft 365) and mail that came in
through the help desk's own forwarding address: pure functions, fed with mails like the real ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskhand.mail.forwarding import GMAIL, MICROSOFT, came_through, forwarding_confirmation, safe_link
from deskhand.mail.parsing import parse_mail
from deskhand.mail.tests.mails import make_mail

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_gmails_confirmation_gives_its_link_code_and_the_forwarding_address() -> None:
    found = forwarding_confirmation(parse_mail(fixture("gmail_forwarding_confirmation.eml")),
                                    envelope_from="forwarding-noreply@google.com")
    assert found is not None and found.provider == GMAIL
    assert found.requested_by == "support@yourcompany.com"
    assert found.code == "538827133"
    assert found.link.startswith("https://mail-settings.google.com/mail/vf-%5BANGjdJ8")  # not the cancel link
    assert found.provider_name == "Gmail / Google Workspace"


def test_microsofts_verification_gives_its_link_and_code() -> None:
    found = forwarding_confirmation(parse_mail(fixture("microsoft_forwarding_verification.eml")), envelope_from=None)
    assert found is not None and found.provider == MICROSOFT
    assert found.code == "4821" and found.requested_by == "support@yourcompany.com"
    assert found.link.startswith("https://outlook.live.com/mail/options/mail/forwarding/verify?token=")


def test_a_look_alike_from_another_sender_is_not_a_confirmation() -> None:
    assert forwarding_confirmation(parse_mail(fixture("gmail_lookalike.eml")), envelope_from=None) is None


def test_the_right_from_with_a_foreign_envelope_is_not_trusted() -> None:
    mail = parse_mail(fixture("gmail_forwarding_confirmation.eml"))
    assert forwarding_confirmation(mail, envelope_from="spoofer@evil.example") is None
    spoofed = fixture("gmail_forwarding_confirmation.eml").replace(
        b"Return-Path: <forwarding-noreply@google.com>", b"Return-Path: <x@google.com.evil.example>")
    assert forwarding_confirmation(parse_mail(spoofed), envelope_from=None) is None


def test_the_providers_sender_with_other_wording_is_ordinary_mail() -> None:
    mail = parse_mail(make_mail(sender="Gmail Team <forwarding-noreply@google.com>", subject="Your storage is full",
                                body="Confirmation code: 123456 https://mail.google.com/mail/vf-abc"))
    assert forwarding_confirmation(mail, envelope_from="forwarding-noreply@google.com") is None


def test_a_confirmation_only_keeps_links_to_the_providers_hosts() -> None:
    raw = fixture("gmail_forwarding_confirmation.eml").replace(
        b"https://mail-settings.google.com/mail/vf-", b"https://evil.example/google.com/mail/vf-")
    found = forwarding_confirmation(parse_mail(raw), envelope_from="forwarding-noreply@google.com")
    assert found is not None and found.link == "" and found.code == "538827133"


@pytest.mark.parametrize(("url", "provider", "safe"), [
    ("https://mail-settings.google.com/mail/vf-abc", GMAIL, True),
    ("https://mail.google.com/mail/vf-abc", GMAIL, True),
    ("http://mail.google.com/mail/vf-abc", GMAIL, False),
    ("https://google.com.evil.example/vf-abc", GMAIL, False),
    ("https://evilgoogle.com/vf-abc", GMAIL, False),
    ("https://user:pw@mail.google.com/vf", GMAIL, False),
    ("https://mail.google.com:8443/vf", GMAIL, False),
    ("javascript:alert(1)//google.com", GMAIL, False),
    ("https://outlook.live.com/mail/verify", MICROSOFT, True),
    ("https://account.microsoft.com/verify", MICROSOFT, True),
    ("https://outlook.office365.com/verify", MICROSOFT, True),
    ("https://live.com/verify", MICROSOFT, False),
    ("https://docs.google.com/forms/d/e/ATTACKER/viewform?confirm-forwarding=1", GMAIL, False),
    ("https://sites.google.com/view/confirm", GMAIL, False),
    ("https://mail-settings.google.com/settings/other", GMAIL, False),
    ("https://forms.office.com/r/ATTACKER", MICROSOFT, False),
    ("https://mail.google.com/mail/vf-abc", MICROSOFT, False),
    ("https://mail.google.com/x\"onmouseover=1", GMAIL, False),
])
def test_safe_links(url: str, provider: str, safe: bool) -> None:
    assert safe_link(url, provider) is safe


@pytest.mark.parametrize(("headers", "to", "through"), [
    ({"Delivered-To": "support@yourcompany.com"}, "tickets@deskhand.test", True),
    ({"X-Forwarded-For": "support@yourcompany.com tickets@deskhand.test"}, "tickets@deskhand.test", True),
    ({"X-MS-Exchange-Inbox-Rules-Loop": "Support@YourCompany.com"}, "tickets@deskhand.test", True),
    ({}, "Support <support@yourcompany.com>", True),
    ({}, "tickets@deskhand.test", False),
    ({"X-Forwarded-For": "sales@yourcompany.com tickets@deskhand.test"}, "tickets@deskhand.test", False),
])
def test_mail_that_came_through_the_forwarding_address(headers: dict[str, str], to: str, through: bool) -> None:
    mail = parse_mail(make_mail(to=to, headers=headers))
    assert came_through(mail, "support@yourcompany.com") is through
