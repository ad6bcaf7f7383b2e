"""Mailbox passwords at rest (issue 11): encrypted in the database, in clear only where IMAP needs them."""

from __future__ import annotations

import stat
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from deskhand.core.actors import Actor
from deskhand.mail.inputs import ImapSettings
from deskhand.mail.models import Mailbox
from deskhand.mail.services import create_mailbox

pytestmark = pytest.mark.django_db

IMAP = ImapSettings(host="imap.acme.example", port=993, security="ssl", username="help",
                    password="Grüße-s3cret-Pa55", folder="INBOX")


def _stored(mailbox: Mailbox) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT imap_password FROM mail_mailbox WHERE id = %s", [mailbox.pk])
        return str(cursor.fetchone()[0])


def test_the_database_holds_no_plaintext_password(admin_actor: Actor) -> None:
    mailbox = create_mailbox(address="help@acme.example", imap=IMAP, actor=admin_actor)
    stored = _stored(mailbox)
    assert "s3cret" not in stored and stored.startswith("fernet:")
    assert Mailbox.objects.get(pk=mailbox.pk).imap_password == "Grüße-s3cret-Pa55"  # what the IMAP login gets
    assert stat.S_IMODE(Path(settings.MAILBOX_KEY_FILE).stat().st_mode) == 0o600


def test_a_password_stored_in_clear_before_is_encrypted_by_the_migration(admin_actor: Actor) -> None:
    mailbox = create_mailbox(address="help@acme.example", imap=IMAP, actor=admin_actor)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE mail_mailbox SET imap_password = %s WHERE id = %s", ["old-plain-Pa55", mailbox.pk])
    assert Mailbox.objects.get(pk=mailbox.pk).imap_password == "old-plain-Pa55"  # readable before the migration
    migration: Any = import_module("deskhand.mail.migrations.0004_mailbox_password_encrypted")
    migration.encrypt_existing(apps, connection.schema_editor())
    assert "old-plain" not in _stored(mailbox)
    assert Mailbox.objects.get(pk=mailbox.pk).imap_password == "old-plain-Pa55"
