"""The typed inputs of the mail services (ticket addresses and their IMAP accounts)."""

from __future__ import annotations

from dataclasses import dataclass

from deskhand.core.inputs import UNSET, Maybe


@dataclass(frozen=True)
class ImapSettings:
    """The IMAP account of a ticket address. Left UNSET: what the mailbox has (for a new account,
    the defaults: port by security, SSL, INBOX, every 60 s); a password is required once."""

    host: Maybe[str] = UNSET
    port: Maybe[int | None] = UNSET  # None: 993 with SSL, 143 otherwise
    security: Maybe[str] = UNSET
    username: Maybe[str] = UNSET
    password: Maybe[str] = UNSET
    folder: Maybe[str] = UNSET
    poll_seconds: Maybe[int] = UNSET


@dataclass(frozen=True)
class MailboxChanges:
    """`imap=None` stops polling and forgets the account."""

    address: Maybe[str] = UNSET
    name: Maybe[str] = UNSET
    imap: Maybe[ImapSettings | None] = UNSET
