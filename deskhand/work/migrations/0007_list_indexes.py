"""Ticket lists with combined filters read their page and their count from indexes (bench/work.md).

- item_status_priority_idx (kind, status, priority, -id): status and priority together; the count
  read 34 000 open tickets for their priority.
- Assignee.kind, the item's kind copied (an item never changes kind), and the indexes
  (agent, kind, item) and (team, kind, item) in place of (agent, item) and (team, item): an agent's
  tickets are counted from the index alone; through the items PostgreSQL probed one item per
  assignment (25 ms for 9 000).
- The single-column foreign-key indexes on work_item.requester, work_assignee.agent and
  work_assignee.team go: the indexes above (and item_requester_idx) start with those columns and
  serve the same lookups, and each index costs every new ticket a write. They are dropped by name
  rather than by AlterField, which on SQLite copies the whole table.
- On SQLite, where planner statistics exist (someone ran ANALYZE), the two tables are analyzed
  again: an index without statistics looks so selective to SQLite, next to indexes with them, that
  it read every ticket through the new index and sorted them for the list with no filter.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SINGLE_COLUMN_INDEXES = [("work_item", "requester_id"), ("work_assignee", "agent_id"), ("work_assignee", "team_id")]


def _single_column_indexes(schema_editor, table, column):
    """The foreign key's own index on `column` (Django names it with a hash)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [name for name, info in constraints.items()
            if info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] == [column]]


def drop_foreign_key_indexes(apps, schema_editor):
    for table, column in SINGLE_COLUMN_INDEXES:
        for name in _single_column_indexes(schema_editor, table, column):
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def restore_foreign_key_indexes(apps, schema_editor):
    for table, column in SINGLE_COLUMN_INDEXES:
        if not _single_column_indexes(schema_editor, table, column):
            schema_editor.execute(f'CREATE INDEX "{table}_{column}_fk" ON "{table}" ("{column}")')


def refresh_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return  # PostgreSQL keeps statistics per column: new indexes on plain columns need none
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return  # never analyzed: every index is on the same default footing
        # work_assignee was copied to add its column, which dropped its statistics too.
        cursor.execute("ANALYZE work_item")
        cursor.execute("ANALYZE work_assignee")


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0002_signin_failures'),
        ('customers', '0003_no_organization_indexes'),
        ('work', '0006_message_full_body'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='item',
            index=models.Index(fields=['kind', 'status', 'priority', '-id'], name='item_status_priority_idx'),
        ),
        migrations.AddField(
            model_name='assignee',
            name='kind',
            field=models.CharField(choices=[('ticket', 'Ticket'), ('task', 'Task')], default='ticket', max_length=8),
            preserve_default=False,
        ),
        migrations.RunSQL(
            "UPDATE work_assignee SET kind = 'task' WHERE item_id IN (SELECT id FROM work_item WHERE kind = 'task')",
            migrations.RunSQL.noop,
        ),
        migrations.AddConstraint(
            model_name='assignee',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['ticket', 'task'])), name='assignee_kind_known'),
        ),
        migrations.RemoveIndex(model_name='assignee', name='assignee_agent_idx'),
        migrations.RemoveIndex(model_name='assignee', name='assignee_team_idx'),
        migrations.AddIndex(
            model_name='assignee',
            index=models.Index(fields=['agent', 'kind', 'item'], name='assignee_agent_kind_idx'),
        ),
        migrations.AddIndex(
            model_name='assignee',
            index=models.Index(fields=['team', 'kind', 'item'], name='assignee_team_kind_idx'),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='item',
                    name='requester',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='requested_items', to='customers.customer'),
                ),
                migrations.AlterField(
                    model_name='assignee',
                    name='agent',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='assignee',
                    name='team',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='agents.team'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_foreign_key_indexes, restore_foreign_key_indexes)],
        ),
        migrations.RunPython(refresh_statistics, migrations.RunPython.noop),
    ]
