"""Deskhand's two keys: new ones, and the ones given by the environment checked at start (pure).

`DESKHAND_SECRET_KEY` signs sessions and links; `DESKHAND_MAILBOX_KEY` encrypts mailbox passwords
(deskhand.core.crypto). When a variable is unset, the key comes from its file in the data
directory. Error messages name the variable and the mistake, never the value.
"""

from __future__ import annotations

import base64
import re
import secrets

from django.core.exceptions import ImproperlyConfigured

SECRET_KEY_VARIABLE = "DESKHAND_SECRET_KEY"
MAILBOX_KEY_VARIABLE = "DESKHAND_MAILBOX_KEY"
# Django's own check (security.W009) asks for 50 characters, 5 of them different.
SECRET_KEY_MIN_LENGTH = 50
MAKE_KEYS = "`deskhand keys` prints a new pair"
# 32 bytes in URL-safe base64: 43 characters and one `=` (the last one holds 4 bits: [AEIMQUYcgkosw048]).
_FERNET_KEY = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]=")


def new_secret_key() -> str:
    """67 characters of [A-Za-z0-9_-]: nothing an env file or a shell would quote."""
    return secrets.token_urlsafe(50)


def new_mailbox_key() -> str:
    """A Fernet key: 32 random bytes in URL-safe base64."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def env_lines() -> str:
    """A new pair as lines of an env file (what `deskhand keys` prints)."""
    return f"{SECRET_KEY_VARIABLE}={new_secret_key()}\n{MAILBOX_KEY_VARIABLE}={new_mailbox_key()}"


def checked_secret_key(value: str) -> str:
    key = value.strip()
    if any(character.isspace() for character in key) or not key.isprintable():
        raise ImproperlyConfigured(f"{SECRET_KEY_VARIABLE} may not contain spaces or control characters "
                                   f"({MAKE_KEYS}).")
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < 5:
        raise ImproperlyConfigured(f"{SECRET_KEY_VARIABLE} is too short: at least {SECRET_KEY_MIN_LENGTH} "
                                   f"random characters, it has {len(key)} ({MAKE_KEYS}).")
    return key


def checked_mailbox_key(value: str) -> str:
    key = value.strip()
    if not _FERNET_KEY.fullmatch(key):
        raise ImproperlyConfigured(f"{MAILBOX_KEY_VARIABLE} is not a mailbox key: 32 bytes in URL-safe base64, "
                                   f"44 characters ending in = ({MAKE_KEYS}).")
    return key
