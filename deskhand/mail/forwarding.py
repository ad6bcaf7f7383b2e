"""Forwarding set-up (pure functions): the confirmation mails Gmail and Outlook / Microsoft 365
send to a new forwarding address, and whether a mail came in through the address the help desk
forwards from.

A confirmation is trusted by its sender only when everything agrees: the exact no-reply address
of the provider, an envelope sender (or Return-Path) in the provider's domains when one is known,
and the provider's wording. Anything else (a look-alike) is ordinary mail and is filed. Even a
trusted one only ever shows an https link to the provider's forwarding confirmation pages (host
and path): a forged mail can at worst show the provider's own confirmation page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlsplit

from deskhand.mail.parsing import ParsedMail

GMAIL = "gmail"
MICROSOFT = "microsoft"
PROVIDER_NAMES = {GMAIL: "Gmail / Google Workspace", MICROSOFT: "Outlook / Microsoft 365"}

_GMAIL_SENDERS = {"forwarding-noreply@google.com"}
_MICROSOFT_SENDERS = {
    "no-reply@microsoft.com", "account-security-noreply@accountprotection.microsoft.com",
    "msonlineservicesteam@microsoftonline.com", "no-reply@outlook.com", "outlook-noreply@microsoft.com",
}
# The envelope sender's domain, when known, must be one of these (or under one).
_ENVELOPE_DOMAINS = {GMAIL: ("google.com", "gmail.com"),
                     MICROSOFT: ("microsoft.com", "outlook.com", "microsoftonline.com", "office365.com",
                                 "exchangelabs.com", "hotmail.com")}
# Where a confirmation link may point: the provider's mail settings, host and path, nothing else
# of the provider. A whole domain would let a forged mail show docs.google.com/forms or
# sites.google.com pages that anyone can build (the sender is not authenticated here).
_LINK_PLACES = {GMAIL: (("mail-settings.google.com", "/mail/vf-"), ("mail.google.com", "/mail/vf-")),
                # Outlook on the web and the account pages host nothing a stranger can write.
                MICROSOFT: (("outlook.live.com", "/"), ("outlook.office.com", "/"), ("outlook.office365.com", "/"),
                            ("account.microsoft.com", "/"), ("account.live.com", "/"))}

_GMAIL_SUBJECT = re.compile(r"Gmail Forwarding Confirmation\s*-\s*Receive (?:Mail|Email) from\s+(?P<address>\S+@\S+)",
                            re.IGNORECASE)
_MICROSOFT_SUBJECT = re.compile(r"\b(?:forward(?:ing)?|redirect)\b.*\b(?:confirm|verif)|"
                                r"\b(?:confirm|verif)\w*\b.*\bforward", re.IGNORECASE)
# A code has a digit and sits on the line that names it ("Confirmation code: 538827133").
_CODE = re.compile(r"\b(?:confirmation|verification|security)[ \t]+code[ \t]*(?:is)?[ \t]*[:：]?[ \t]*"
                   r"(?P<code>(?=[A-Z-]*\d)[A-Z0-9-]{4,20})\b", re.IGNORECASE)
_SUBJECT_CODE = re.compile(r"^\s*\(#(?P<code>\d{4,20})\)")
_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_FORWARDED_FROM = re.compile(r"\bfrom\s+<?(?P<address>[\w.+'-]+@[\w-]+(?:\.[\w-]+)+)", re.IGNORECASE)
MAX_LINK = 2000


@dataclass(frozen=True)
class Confirmation:
    """A provider asks the receiving address to confirm forwarding from `requested_by`."""

    provider: str
    requested_by: str
    link: str
    code: str

    @property
    def provider_name(self) -> str:
        return PROVIDER_NAMES[self.provider]


def _domain_of(address: str) -> str:
    return address.strip().strip("<>").rpartition("@")[2].lower()


def _under(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == domain or host.endswith(f".{domain}") for domain in domains)


def safe_link(url: str, provider: str) -> bool:
    """An https link to the provider's own hosts, without credentials or odd ports: what the page
    may show as a link."""
    if len(url) > MAX_LINK or any(ch in url for ch in "\\\"'<> \t\r\n"):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.username or parts.password or port not in (None, 443) or not host:
        return False
    return any(host == place and parts.path.startswith(path) for place, path in _LINK_PLACES.get(provider, ()))


def _links(mail: ParsedMail) -> list[str]:
    found = [match.rstrip(".,;") for match in _URL.findall(mail.text)]
    found += [unescape(href) for href in _HREF.findall(mail.html)]
    found += [match.rstrip(".,;") for match in _URL.findall(unescape(re.sub(r"<[^>]+>", " ", mail.html)))]
    return list(dict.fromkeys(found))


def _confirmation_link(mail: ParsedMail, provider: str) -> str:
    """The link that confirms: the provider's, preferring one that says so (Gmail's `vf-` links)."""
    safe = [link for link in _links(mail) if safe_link(link, provider)]
    wanted = [link for link in safe if re.search(r"/vf-|confirm|verif|forward", link, re.IGNORECASE)
              and "support." not in urlsplit(link).netloc.lower()]
    return (wanted or [""])[0]


def _envelope_ok(envelope_from: str | None, return_path: str, provider: str) -> bool:
    """The envelope sender, when the transport or a Return-Path says it, is the provider's."""
    for known in (envelope_from, return_path):
        if known is not None and known.strip("<> ") and not _under(_domain_of(known), _ENVELOPE_DOMAINS[provider]):
            return False
    return True


def forwarding_confirmation(mail: ParsedMail, *, envelope_from: str | None) -> Confirmation | None:
    """The forwarding confirmation `mail` is, from Gmail or Microsoft, or None (then it is ordinary
    mail). `envelope_from` is the SMTP MAIL FROM when the transport knows it."""
    sender = mail.from_address.strip().lower()
    text = f"{mail.text}\n{unescape(re.sub(r'<[^>]+>', ' ', mail.html))}"
    if sender in _GMAIL_SENDERS:
        provider = GMAIL
        subject = _GMAIL_SUBJECT.search(mail.subject)
        if subject is None:
            return None
        requested_by = subject.group("address").strip("<>.,").lower()
    elif sender in _MICROSOFT_SENDERS:
        provider = MICROSOFT
        if not _MICROSOFT_SUBJECT.search(mail.subject):
            return None
        named = _FORWARDED_FROM.search(text)
        requested_by = named.group("address").lower() if named else ""
    else:
        return None
    if not _envelope_ok(envelope_from, mail.return_path, provider):
        return None
    code_match = _CODE.search(text) or _SUBJECT_CODE.search(mail.subject)
    link = _confirmation_link(mail, provider)
    if not link and code_match is None:
        return None
    return Confirmation(provider=provider, requested_by=requested_by[:254], link=link,
                        code=code_match.group("code")[:40] if code_match else "")


# Headers in which forwarding leaves the address it forwarded from: Gmail's X-Forwarded-For and
# Delivered-To, Exchange's inbox-rule loop header, Resent-From of a redirect.
FORWARD_HEADERS = ("x-forwarded-for", "x-ms-exchange-inbox-rules-loop", "x-ms-exchange-forwardingloop",
                   "resent-from", "x-original-to")


def came_through(mail: ParsedMail, address: str) -> bool:
    """Whether `mail` came in through `address` (the help desk's own address that forwards to
    Deskhand): its envelope or headers name it as a recipient or a forwarder."""
    key = address.strip().lower()
    if not key:
        return False
    named = [*mail.delivered_to, *(a for _, a in mail.to), *(a for _, a in mail.cc)]
    if any(entry.strip().lower() == key for entry in named):
        return True
    return any(key in {found.lower() for found in _ADDRESS.findall(mail.headers.get(name, ""))}
               for name in FORWARD_HEADERS)
