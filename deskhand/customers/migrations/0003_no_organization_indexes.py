"""The "No organization" count and page read from indexes (bench/README.md, customers.py finding 3).

- customer_org_merged_idx (organization, merged_into) replaces the foreign key's single-column
  index: it still serves every lookup by organization, and the live count of an organization or of
  "No organization" is read from it alone (SQLite read 15 000 table rows through the old index).
- customer_no_org_email_idx: the "No organization" page in address order; PostgreSQL without
  statistics sorted all of it instead.

The old index is dropped by name rather than by AlterField, which on SQLite copies the whole table.
"""

import django.db.models.deletion
from django.db import migrations, models


def _organization_index_names(schema_editor):
    """The foreign key's own index: the one index on organization_id alone (named by a hash)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "customers_customer")
    return [name for name, info in constraints.items()
            if info["index"] and not info["unique"] and not info["primary_key"]
            and info["columns"] == ["organization_id"]]


def drop_foreign_key_index(apps, schema_editor):
    for name in _organization_index_names(schema_editor):
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def restore_foreign_key_index(apps, schema_editor):
    if not _organization_index_names(schema_editor):
        schema_editor.execute('CREATE INDEX "customers_customer_organization_id_dc486906" '
                              'ON "customers_customer" ("organization_id")')


def refresh_statistics(apps, schema_editor):
    """SQLite, where planner statistics exist: an index without them looks so selective, next to
    indexes with them, that SQLite picks it over better ones (work/0007 saw it sort every ticket)."""
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone() is not None:
            cursor.execute("ANALYZE customers_customer")


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0002_live_customer_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['organization', 'merged_into'], name='customer_org_merged_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('merged_into__isnull', True), ('organization__isnull', True)), fields=['email_key'], name='customer_no_org_email_idx'),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='organization',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='customers', to='customers.organization'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_foreign_key_index, restore_foreign_key_index)],
        ),
        migrations.RunPython(refresh_statistics, migrations.RunPython.noop),
    ]
