"""Secrets on disk (issue 11): the data directory is the running user's alone, whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from deskhand.core.private import make_private_dir, private_file

DESKHAND = str(Path(sys.executable).with_name("deskhand"))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(settings.DATABASE_VENDOR != "sqlite", reason="the SQLite file is what this checks")
def test_a_fresh_install_keeps_database_keys_and_directories_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "DESKHAND_DATA_DIR": str(data), "DATABASE_URL": ""}
    # A shell umask of 022 makes 0644 files unless Deskhand says otherwise.
    subprocess.run(["sh", "-c", f"umask 022 && {DESKHAND} migrate --no-input"], env=env, check=True,
                   capture_output=True, timeout=120)
    assert _mode(data) == 0o700
    files = [data / "secret_key", data / "deskhand.sqlite3"]
    files += [path for path in data.glob("deskhand.sqlite3-*")]  # -wal and -shm while open
    for path in files:
        assert path.is_file(), path
        assert _mode(path) == 0o600, f"{path.name} is {oct(_mode(path))}"


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
    from deskhand.work.services.items import submit_ticket
    from deskhand.work.services.messages import NewAttachment, add_message

    assert isinstance(agent_actor, Actor)
    old = os.umask(0o022)  # even a process started with a loose umask before settings were read
    try:
        item = submit_ticket(title="Printer", requester_email="zoe@acme-corp.example", actor=agent_actor)
        message = add_message(item, kind="note", body="log", actor=agent_actor,
                              attachments=[NewAttachment(name="boot.log", content=b"secret log")])
    finally:
        os.umask(old)
    return Path(message.attachments.get().file.path)
