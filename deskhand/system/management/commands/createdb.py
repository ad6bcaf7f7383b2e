from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Create the PostgreSQL database that DATABASE_URL names, when it does not exist yet "
            "(`make run-scaled` runs it before `migrate`; SQLite needs nothing).")

    def handle(self, *args: Any, **options: Any) -> None:
        database = settings.DATABASES["default"]
        if settings.DATABASE_VENDOR != "postgresql":
            self.stdout.write("SQLite: nothing to create.")
            return
        import psycopg
        from psycopg import sql

        name = str(database["NAME"])
        params: dict[str, Any] = {"host": database.get("HOST") or None, "port": database.get("PORT") or None,
                  "user": database.get("USER") or None, "password": database.get("PASSWORD") or None,
                  "dbname": "postgres", "connect_timeout": 10}
        try:
            with psycopg.connect(**{key: value for key, value in params.items() if value is not None},
                                 autocommit=True) as connection:
                if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                    self.stdout.write(f"Database {name} exists.")
                    return
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            # The server's own words, without the connection string (it may hold the password).
            raise CommandError(f"Could not create database {name}: {exc.diag.message_primary or type(exc).__name__}") from None
        self.stdout.write(f"Database {name} created.")
