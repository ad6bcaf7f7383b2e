"""Secrets at rest: text encrypted with the mailbox key (Fernet: AES-128-CBC with an HMAC-SHA256),
and a model field that stores only the encrypted form.

The key is `DESKHAND_MAILBOX_KEY`, else the data directory's `mailbox_key` file. The file is made
when the first secret is stored, and never while secrets encrypted with another key exist: a
process without the key fails with `MailboxKeyMissing` instead of making a key that cannot read
them (on a second host, say)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from deskhand.core.keys import MAILBOX_KEY_VARIABLE, new_mailbox_key
from deskhand.core.private import private_file

log = logging.getLogger(__name__)

PREFIX = "fernet:"


class MailboxKeyMissing(ImproperlyConfigured):
    def __init__(self) -> None:
        super().__init__(
            f"Mailbox passwords are stored encrypted, but this process has no mailbox key: set "
            f"{MAILBOX_KEY_VARIABLE} to the key the other Deskhand processes use (or copy their "
            f"{Path(settings.MAILBOX_KEY_FILE).name} file into {settings.DATA_DIR}).")


@lru_cache(maxsize=4)
def _fernet_for(key: str) -> Fernet:
    return Fernet(key.encode())


def _key() -> str:
    """The key in use, "" when there is none yet."""
    if settings.MAILBOX_KEY:
        return str(settings.MAILBOX_KEY)
    try:
        return Path(settings.MAILBOX_KEY_FILE).read_text().strip()
    except FileNotFoundError:
        return ""


def encrypted_secrets_exist() -> bool:
    """Whether any row holds a secret encrypted with some key (every EncryptedTextField)."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField) and model._base_manager.filter(
                    **{f"{field.attname}__startswith": PREFIX}).exists():
                return True
    return False


def check_mailbox_key() -> None:
    """Raise MailboxKeyMissing when secrets are stored and this process has no key to read them."""
    if not _key() and encrypted_secrets_exist():
        raise MailboxKeyMissing


def _fernet(*, encrypting: bool) -> Fernet:
    key = _key()
    if not key:
        if not encrypting or encrypted_secrets_exist():
            raise MailboxKeyMissing
        key = private_file(settings.MAILBOX_KEY_FILE, new_mailbox_key)  # the first secret of this install
    return _fernet_for(key)


def encrypt(text: str) -> str:
    """`text` as stored: the prefix and a Fernet token; empty stays empty."""
    if not text:
        return ""
    return PREFIX + _fernet(encrypting=True).encrypt(text.encode()).decode()


def decrypt(stored: str) -> str:
    """The text behind `stored`. Text without the prefix (written before encryption) is returned
    as it is. Without a key, MailboxKeyMissing; a token the key cannot open (another key) reads
    as empty, so the secret has to be entered again instead of every page that reads the row
    failing."""
    if not stored or not stored.startswith(PREFIX):
        return stored or ""
    try:
        return _fernet(encrypting=False).decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        log.warning("A stored secret cannot be decrypted with this process's mailbox key (%s or %s): every "
                    "process must use the same key; else enter the secret again.",
                    MAILBOX_KEY_VARIABLE, settings.MAILBOX_KEY_FILE)
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
