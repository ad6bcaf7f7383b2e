# The raw bytes of inbound mail move to a table of their own (see InboundRaw): on SQLite, any
# update of a row rewrites all of it, so a status change copied the whole mail.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mail', '0004_mailbox_password_encrypted'),
    ]

    operations = [
        migrations.CreateModel(
            name='InboundRaw',
            fields=[
                ('inbound', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='mail.inboundemail')),
                ('data', models.BinaryField()),
            ],
        ),
        migrations.RunSQL(
            'INSERT INTO "mail_inboundraw" ("inbound_id", "data") SELECT "id", "raw" FROM "mail_inboundemail"',
            reverse_sql='UPDATE "mail_inboundemail" SET "raw" = (SELECT "data" FROM "mail_inboundraw" '
                        'WHERE "mail_inboundraw"."inbound_id" = "mail_inboundemail"."id")',
        ),
        migrations.RemoveField(
            model_name='inboundemail',
            name='raw',
        ),
    ]
