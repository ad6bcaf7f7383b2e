from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings


@contextmanager
def throwaway_database() -> Iterator[str]:
    """The DATABASE_URL of a new, empty database of the backend under test, for a `deskhand` process
    of its own: "" for SQLite (the file in that process's data directory), else a new PostgreSQL
    database, dropped afterwards."""
    if settings.DATABASE_VENDOR == "sqlite":
        yield ""
        return
    import psycopg

    database = settings.DATABASES["default"]
    name = f"deskhand_fresh_{uuid.uuid4().hex[:8]}"
    admin_url = f"postgresql://{database['USER']}@{database['HOST']}:{database['PORT']}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url() -> Iterator[str]:
    with throwaway_database() as url:
        yield url


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A local S3 server (moto's server mode) that the tests and their `deskhand` processes reach."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
