"""Full-text search over articles (kb.queries.search_articles).

SQLite: an FTS5 table over title, tags and body text (unicode61, diacritics folded: "fur" finds
"für"), ranked by bm25, with snippets; and a trigram FTS5 table over titles and tags that finds a
title with a typo. Both are kept by triggers.
PostgreSQL: a stored tsvector (title A, tags B, body C) with a GIN index, and a pg_trgm index on
titles for the typos."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE kb_article_fts USING fts5("
    "title, tags, body_text, content='kb_article', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE kb_article_trigram USING fts5("
    "title, tags, content='kb_article', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER kb_article_search_insert AFTER INSERT ON kb_article BEGIN "
    "INSERT INTO kb_article_fts(rowid, title, tags, body_text) VALUES (new.id, new.title, new.tags, new.body_text); "
    "INSERT INTO kb_article_trigram(rowid, title, tags) VALUES (new.id, new.title, new.tags); END",
    "CREATE TRIGGER kb_article_search_delete AFTER DELETE ON kb_article BEGIN "
    "INSERT INTO kb_article_fts(kb_article_fts, rowid, title, tags, body_text) "
    "VALUES ('delete', old.id, old.title, old.tags, old.body_text); "
    "INSERT INTO kb_article_trigram(kb_article_trigram, rowid, title, tags) VALUES ('delete', old.id, old.title, old.tags); "
    "END",
    "CREATE TRIGGER kb_article_search_update AFTER UPDATE OF title, tags, body_text ON kb_article BEGIN "
    "INSERT INTO kb_article_fts(kb_article_fts, rowid, title, tags, body_text) "
    "VALUES ('delete', old.id, old.title, old.tags, old.body_text); "
    "INSERT INTO kb_article_trigram(kb_article_trigram, rowid, title, tags) VALUES ('delete', old.id, old.title, old.tags); "
    "INSERT INTO kb_article_fts(rowid, title, tags, body_text) VALUES (new.id, new.title, new.tags, new.body_text); "
    "INSERT INTO kb_article_trigram(rowid, title, tags) VALUES (new.id, new.title, new.tags); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS kb_article_search_insert",
    "DROP TRIGGER IF EXISTS kb_article_search_delete",
    "DROP TRIGGER IF EXISTS kb_article_search_update",
    "DROP TABLE IF EXISTS kb_article_fts",
    "DROP TABLE IF EXISTS kb_article_trigram",
]
POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE kb_article ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(tags, '')), 'B') || "
    "setweight(to_tsvector('simple', left(coalesce(body_text, ''), 200000)), 'C')) STORED",
    "CREATE INDEX kb_article_search_gin ON kb_article USING gin (search)",
    "CREATE INDEX kb_article_title_trgm ON kb_article USING gin (lower(title) gin_trgm_ops)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS kb_article_title_trgm",
    "DROP INDEX IF EXISTS kb_article_search_gin",
    "ALTER TABLE kb_article DROP COLUMN IF EXISTS search",
]


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
    dependencies = [("kb", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
