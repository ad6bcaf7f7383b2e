"""Secrets at rest: text encrypted with a key from the data directory (Fernet: AES-128-CBC with an
HMAC-SHA256), and a model field that stores only the encrypted form."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models

from deskhand.core.private import private_file

log = logging.getLogger(__name__)

PREFIX = "fernet:"


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    return Fernet(private_file(settings.MAILBOX_KEY_FILE, lambda: Fernet.generate_key().decode()).encode())


def encrypt(text: str) -> str:
    """`text` as stored: the prefix and a Fernet token; empty stays empty."""
    if not text:
        return ""
    return PREFIX + _fernet().encrypt(text.encode()).decode()


def decrypt(stored: str) -> str:
    """The text behind `stored`. Text without the prefix (written before encryption) is returned
    as it is; a token the key cannot open (the key file replaced) reads as empty, so the secret
    has to be entered again instead of every page that reads the row failing."""
    if not stored or not stored.startswith(PREFIX):
        return stored or ""
    try:
        return _fernet().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        log.warning("A stored secret cannot be decrypted with %s; enter it again.", settings.MAILBOX_KEY_FILE)
        return ""


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Plain text in Python, a Fernet token in the database."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str:
        return decrypt(value or "")

    def to_python(self, value: Any) -> Any:
        return decrypt(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return None if value is None else encrypt(str(value))
