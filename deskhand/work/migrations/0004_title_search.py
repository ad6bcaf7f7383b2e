"""A substring index on item titles, so that searching 200 000 titles does not scan them all:
FTS5 with the trigram tokenizer on SQLite, pg_trgm on PostgreSQL (the expression Django's
icontains produces)."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE work_item_title USING fts5("
    "title, content='work_item', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER work_item_title_insert AFTER INSERT ON work_item BEGIN "
    "INSERT INTO work_item_title(rowid, title) VALUES (new.id, new.title); END",
    "CREATE TRIGGER work_item_title_delete AFTER DELETE ON work_item BEGIN "
    "INSERT INTO work_item_title(work_item_title, rowid, title) VALUES ('delete', old.id, old.title); END",
    "CREATE TRIGGER work_item_title_update AFTER UPDATE OF title ON work_item BEGIN "
    "INSERT INTO work_item_title(work_item_title, rowid, title) VALUES ('delete', old.id, old.title); "
    "INSERT INTO work_item_title(rowid, title) VALUES (new.id, new.title); END",
    "INSERT INTO work_item_title(work_item_title) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS work_item_title_insert",
    "DROP TRIGGER IF EXISTS work_item_title_delete",
    "DROP TRIGGER IF EXISTS work_item_title_update",
    "DROP TABLE IF EXISTS work_item_title",
]
POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS work_item_title_trgm ON work_item USING gin ((UPPER(title::text)) gin_trgm_ops)",
]
POSTGRESQL_REVERSE = ["DROP INDEX IF EXISTS work_item_title_trgm"]


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRESQL)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _run(schema_editor, SQLITE_REVERSE if vendor == "sqlite" else POSTGRESQL_REVERSE if vendor == "postgresql" else [])


class Migration(migrations.Migration):
    dependencies = [("work", "0003_case_insensitive_ordering")]
    operations = [migrations.RunPython(forwards, backwards)]
