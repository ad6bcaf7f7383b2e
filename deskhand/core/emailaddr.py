"""Parse and normalise email addresses and domains (pure functions, no database).

A stored address keeps its local part as typed (for display) and its domain lower-cased and
IDNA-encoded; `key` is the case-insensitive form that uniqueness is checked on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from email_validator.syntax import validate_email_domain_name

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_LENGTH = 64


class AddressError(ValueError):
    """The text is not a usable email address or domain; the message says why."""


@dataclass(frozen=True, slots=True)
class EmailAddress:
    local: str
    domain: str  # ASCII (IDNA), lower case

    @property
    def address(self) -> str:
        return f"{self.local}@{self.domain}"

    @property
    def key(self) -> str:
        return self.address.lower()


def parse_email(raw: str) -> EmailAddress:
    """Normalise `raw` or raise AddressError: trimmed, domain lower-cased and IDNA-encoded."""
    if not isinstance(raw, str):
        raise AddressError("Enter an email address.")
    return _parse_email(raw)


@lru_cache(maxsize=8192)  # pure; mail names the same people again and again
def _parse_email(raw: str) -> EmailAddress:
    text = raw.strip()
    if not text:
        raise AddressError("Enter an email address.")
    if len(text) > 4 * MAX_EMAIL_LENGTH:  # cheap guard before the parser sees it
        raise AddressError(f"An email address has at most {MAX_EMAIL_LENGTH} characters.")
    try:
        result = validate_email(
            text, check_deliverability=False, test_environment=True, allow_smtputf8=True
        )
    except EmailNotValidError as exc:
        raise AddressError(str(exc)) from None
    address = EmailAddress(local=result.local_part, domain=result.ascii_domain.lower())
    if len(address.local) > MAX_LOCAL_LENGTH:
        raise AddressError(f"The part before the @ has at most {MAX_LOCAL_LENGTH} characters.")
    if len(address.address) > MAX_EMAIL_LENGTH:
        raise AddressError(f"An email address has at most {MAX_EMAIL_LENGTH} characters.")
    return address


def normalize_domain(raw: str) -> str:
    """`@ACME.com`, ` acme.com. ` or `bücher.de` → `acme.com` / `xn--bcher-kva.de`."""
    if not isinstance(raw, str):
        raise AddressError("Enter a domain such as acme.com.")
    text = raw.strip().lstrip("@").rstrip(".").strip()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    if not text:
        raise AddressError("Enter a domain such as acme.com.")
    if len(text) > 253 * 4:
        raise AddressError("A domain has at most 253 characters.")
    try:
        result = validate_email_domain_name(text, test_environment=True)
    except EmailNotValidError:
        if len(text) > 253:  # the likely reason, said plainly (rather than echoing a wall of text)
            raise AddressError("A domain has at most 253 characters.") from None
        raise AddressError(f"“{text[:100]}” is not a valid domain name, such as acme.com.") from None
    return str(result["ascii_domain"]).lower()


def display_domain(domain: str) -> str:
    """The Unicode form of an IDNA domain, for people to read."""
    if "xn--" not in domain:
        return domain
    try:
        return domain.encode("ascii").decode("idna")
    except UnicodeError:
        return domain
