"""Mailbox passwords encrypted at rest (issue 11): the column becomes text, and every password
stored in clear before is encrypted with the data directory's mailbox key."""

from typing import Any

from django.db import migrations

import deskhand.core.crypto


def encrypt_existing(apps: Any, schema_editor: Any) -> None:
    mailbox_model = apps.get_model("mail", "Mailbox")
    # Reading decrypts (text without the prefix is returned as it is); saving encrypts.
    for mailbox in mailbox_model.objects.exclude(imap_password="").only("pk", "imap_password"):
        mailbox.save(update_fields=["imap_password"])


def decrypt_existing(apps: Any, schema_editor: Any) -> None:
    mailbox_model = apps.get_model("mail", "Mailbox")
    table = schema_editor.quote_name(mailbox_model._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        for mailbox in mailbox_model.objects.exclude(imap_password="").only("pk", "imap_password"):
            cursor.execute(f"UPDATE {table} SET imap_password = %s WHERE id = %s",  # noqa: S608 - a quoted name
                           [mailbox.imap_password, mailbox.pk])


class Migration(migrations.Migration):

    dependencies = [
        ('mail', '0003_inbound_mailboxes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='mailbox',
            name='imap_password',
            field=deskhand.core.crypto.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
