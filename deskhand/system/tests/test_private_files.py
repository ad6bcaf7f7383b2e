"""Secrets on disk (issue 11): the data directory is the running user's alone, whatever the umask,
on either database backend. What differs is only where the database lives: SQLite keeps its file
(0600) in the data directory; PostgreSQL keeps nothing there."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from deskhand.core.private import make_private_dir, private_file
from deskhand.system.tests.conftest import throwaway_database

DESKHAND = str(Path(sys.executable).with_name("deskhand"))

# The first use of a fresh install, through the app's own services: a ticket address with an IMAP
# password (encrypted with the mailbox key, made on first use) and a ticket with an attachment.
FIRST_USE = """
from django.db import connection
from deskhand.core.actors import SYSTEM
from deskhand.mail.inputs import ImapSettings
from deskhand.mail.services import create_mailbox
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import NewAttachment, add_message
from deskhand.work.services.statuses import ensure_default_workflow
ensure_default_workflow()
create_mailbox(address="help@acme.example", imap=ImapSettings(host="imap.acme.example", username="help",
               password="s3cret-Pa55"), actor=SYSTEM)
item = submit_ticket(ItemDraft(title="Printer", requester_email="zoe@acme-corp.example"), actor=SYSTEM)
add_message(item, kind="note", body="log", actor=SYSTEM,
            attachments=[NewAttachment(name="boot.log", content=b"secret log")])
print("vendor:", connection.vendor)
"""


@dataclass(frozen=True)
class FreshInstall:
    data: Path  # its data directory
    vendor: str  # the database backend it ran on, as its own process reported it


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshInstall]:
    """`deskhand migrate` and a first use, as separate processes started from a shell whose umask
    (022) makes 0644 files unless Deskhand says otherwise, on a new database of the backend under test."""
    data = tmp_path_factory.mktemp("fresh") / "data"
    with throwaway_database() as database_url:
        env = {**os.environ, "DESKHAND_DATA_DIR": str(data), "DATABASE_URL": database_url}
        for command in ([DESKHAND, "migrate", "--no-input"], [DESKHAND, "shell", "--no-imports", "-c", FIRST_USE]):
            done = subprocess.run(["sh", "-c", 'umask 022 && exec "$@"', "sh", *command], env=env,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
        yield FreshInstall(data=data, vendor=done.stdout.split("vendor:")[-1].strip())


def test_a_fresh_install_keeps_its_directories_keys_and_attachments_private(fresh_install: FreshInstall) -> None:
    data = fresh_install.data
    assert _mode(data) == 0o700
    for key in ("secret_key", "mailbox_key"):
        assert (data / key).is_file(), key
        assert _mode(data / key) == 0o600, f"{key} is {oct(_mode(data / key))}"
    attachments = [path for path in (data / "attachments").rglob("*") if path.is_file()]
    assert [path.read_bytes() for path in attachments] == [b"secret log"]
    # Everything it made, wherever: files 0600, directories 0700 (the database file too, when it is here).
    loose = {str(path.relative_to(data)): oct(_mode(path)) for path in data.rglob("*")
             if _mode(path) != (0o700 if path.is_dir() else 0o600)}
    assert loose == {}


# Where each backend keeps the database, within the data directory: SQLite its file (with -wal and
# -shm while open); PostgreSQL nothing, its data is the server's.
DATABASE_FILES = {"sqlite": ["deskhand.sqlite3"], "postgresql": []}


def test_the_database_is_a_private_file_of_the_data_directory_or_none_at_all(fresh_install: FreshInstall) -> None:
    assert fresh_install.vendor == settings.DATABASE_VENDOR  # the fresh install ran on the backend under test
    found = {path.name: _mode(path) for path in fresh_install.data.glob("*.sqlite3*")}
    assert sorted(name for name in found if name.endswith(".sqlite3")) == DATABASE_FILES[fresh_install.vendor]
    assert {name: oct(mode) for name, mode in found.items() if mode != 0o600} == {}


def test_an_existing_data_directory_of_ours_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    make_private_dir(data)
    assert _mode(data) == 0o700


def test_a_key_file_is_never_readable_by_others_and_made_once(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        assert private_file(tmp_path / "key", lambda: "first") == "first"
        assert private_file(tmp_path / "key", lambda: "second") == "first"
    finally:
        os.umask(old)
    assert _mode(tmp_path / "key") == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["key"]  # no temporary file left behind


@pytest.mark.django_db
def test_attachments_are_stored_0600_in_0700_directories(ticket_with_file: Path, tmp_path: Path) -> None:
    assert _mode(ticket_with_file) == 0o600
    # The month directories storage makes (the data directory's own may predate this test run).
    storage = FileSystemStorage(location=tmp_path / "attachments")
    name = storage.save("2026/01/boot.log", ContentFile(b"secret log"))
    assert _mode(Path(storage.path(name))) == 0o600
    assert _mode(Path(storage.path(name)).parent) == _mode(tmp_path / "attachments") == 0o700


@pytest.fixture
def ticket_with_file(agent_actor: object) -> Path:
    from deskhand.core.actors import Actor
    from deskhand.work.inputs import ItemDraft
    from deskhand.work.services.items import submit_ticket
    from deskhand.work.services.messages import NewAttachment, add_message

    assert isinstance(agent_actor, Actor)
    old = os.umask(0o022)  # even a process started with a loose umask before settings were read
    try:
        item = submit_ticket(ItemDraft(title="Printer", requester_email="zoe@acme-corp.example"), actor=agent_actor)
        message = add_message(item, kind="note", body="log", actor=agent_actor,
                              attachments=[NewAttachment(name="boot.log", content=b"secret log")])
    finally:
        os.umask(old)
    return Path(message.attachments.get().file.path)
