"""`deskhand backup DIR` and `deskhand restore DIR`: a snapshot taken while the help desk runs comes back
whole in a fresh data directory and database; a damaged backup or a used target is refused."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from deskhand.config.services import LOGO_PATH, set_logo
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.models import Source
from deskhand.customers.services import create_customer, create_organization
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw
from deskhand.mail.inputs import ImapSettings
from deskhand.mail.services import create_mailbox
from deskhand.mail.tests.mails import make_mail
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Attachment, Item
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import NewAttachment, add_message, submit_request

pytestmark = pytest.mark.django_db(transaction=True)

DESKHAND = str(Path(sys.executable).with_name("deskhand"))
PASSWORD = "Grüße-s3cret-Pa55"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8

# Run by the restored Deskhand: what a user would look at.
INSPECT = """
import hashlib, json
from django.core.files.storage import storages
from django.db import connection
from deskhand.config.services import LOGO_PATH
from deskhand.mail.models import Mailbox
from deskhand.work.models import Attachment
counts = {}
with connection.cursor() as cursor:
    for table in connection.introspection.table_names(cursor):
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
files = {}
for attachment in Attachment.objects.all():
    with storages["attachments"].open(attachment.file.name, "rb") as handle:
        files[attachment.file.name] = [attachment.sha256, hashlib.sha256(handle.read()).hexdigest()]
logo = storages["default"].open(LOGO_PATH, "rb").read() if storages["default"].exists(LOGO_PATH) else b""
print(json.dumps({"counts": counts, "attachments": files, "logo": hashlib.sha256(logo).hexdigest(),
                  "passwords": {m.address: m.imap_password for m in Mailbox.objects.exclude(imap_host="")}}))
"""


def _env(data_dir: Path, database_url: str, **variables: str) -> dict[str, str]:
    # As a deployment has it: none of the test run's own variables.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("DESKHAND_") and key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**env, "DESKHAND_DATA_DIR": str(data_dir), "DATABASE_URL": database_url, **variables}


def _deskhand(*args: str, data_dir: Path, database_url: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DESKHAND, *args], env=_env(data_dir, database_url, **variables), capture_output=True,
                          text=True, timeout=300)


def _inspect(data_dir: Path, database_url: str, **variables: str) -> dict[str, Any]:
    shown = _deskhand("shell", "-c", INSPECT, data_dir=data_dir, database_url=database_url, **variables)
    assert shown.returncode == 0, shown.stderr
    result: dict[str, Any] = json.loads(shown.stdout.strip().splitlines()[-1])
    return result


def _counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def _manifest(backup: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((backup / "manifest.json").read_text())
    return manifest


def _target_is_empty(data_dir: Path, database_url: str) -> bool:
    """No table in the target database, no file in its attachment storage."""
    attachments = data_dir / "attachments"
    stored = [path for path in attachments.rglob("*") if path.is_file()] if attachments.exists() else []
    if database_url:
        import psycopg

        with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as pg:
            tables = pg.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        return not stored and tables is not None and tables[0] == 0
    return not stored and not (data_dir / "deskhand.sqlite3").exists()


@pytest.fixture
def logo_storage(settings: Any, tmp_path: Path) -> Path:
    location = tmp_path / "files"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": location}}}
    return location


@pytest.fixture
def help_desk(admin_actor: Actor, agent_actor: Actor, logo_storage: Path) -> Item:
    """Customers, organizations, a ticket with files, a mail that became a ticket, an IMAP mailbox."""
    create_organization("Acme", domains=["acme.example"], actor=admin_actor)
    create_customer("carol@elsewhere.example", name="Carol", source=Source.AGENT, actor=agent_actor)
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    create_mailbox(address="help@acme.example", actor=admin_actor,
                   imap=ImapSettings(host="imap.acme.example", username="help", password=PASSWORD))
    ticket = submit_ticket(ItemDraft(title="Printer on fire", description="Third floor.",
                                     requester_email="bob@acme.example"), actor=agent_actor)
    add_message(ticket, kind="reply", body="Logs and a photo, please.", actor=agent_actor,
                attachments=[NewAttachment(name="screen.png", content=PNG, content_type="image/png"),
                             NewAttachment(name="boot.log", content=b"kernel: ok\n" * 500)])
    inbound = receive_raw(make_mail(sender="Zoë <zoe@acme.example>", subject="Invoice missing",
                                    attachments=[("invoice.pdf", b"%PDF-1.4 " + os.urandom(4000), "application/pdf")]),
                          process=False, transport="smtp", envelope_from="zoe@acme.example")
    process_ids([inbound.pk])
    set_logo(PNG, actor=admin_actor)
    return ticket


def test_a_restore_brings_back_every_row_every_file_and_the_keys(
        help_desk: Item, tmp_path: Path, database_url: str) -> None:
    backup, target = tmp_path / "backup", tmp_path / "restored"
    before = _counts()
    rows = {str(a.file.name): a.sha256 for a in Attachment.objects.all()}
    assert len(rows) == 3 and before["mail_inboundemail"] == 1

    call_command("backup", str(backup))

    manifest = _manifest(backup)
    assert manifest["format"] == 1 and manifest["deskhand_version"] == "0.1.0" and manifest["created_at"]
    assert manifest["database"]["vendor"] == django_settings.DATABASE_VENDOR
    assert manifest["database"]["tables"] == before and manifest["problems"] == []
    stored = {entry["name"]: entry["sha256"] for entry in manifest["files"] if entry.get("storage") == "attachments"}
    assert stored == rows
    assert {entry["path"] for entry in manifest["files"]} >= {"keys/secret_key", "keys/mailbox_key",
                                                               f"storage/default/{LOGO_PATH}"}
    for entry in manifest["files"]:
        assert hashlib.sha256((backup / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    # Only the user Deskhand runs as may read a backup: it holds the keys.
    for path in [backup, *backup.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path

    restored = _deskhand("restore", str(backup), data_dir=target, database_url=database_url)
    assert restored.returncode == 0, restored.stderr
    assert "Restored the backup" in restored.stdout and "stored files: 4" in restored.stdout
    assert PASSWORD not in restored.stdout + restored.stderr

    seen = _inspect(target, database_url)
    assert seen["counts"] == before
    assert {name: shas[1] for name, shas in seen["attachments"].items()} == rows
    assert seen["passwords"] == {"help@acme.example": PASSWORD}  # the mailbox key came along
    assert seen["logo"] == hashlib.sha256(PNG).hexdigest()
    assert (target / "secret_key").read_text() == (Path(django_settings.DATA_DIR) / "secret_key").read_text()
    assert stat.S_IMODE((target / "mailbox_key").stat().st_mode) == 0o600

    again = _deskhand("restore", str(backup), data_dir=target, database_url=database_url)
    assert again.returncode != 0 and "already holds" in again.stderr
    assert _inspect(target, database_url)["counts"] == before


def test_a_damaged_backup_is_refused_and_nothing_is_restored(
        help_desk: Item, tmp_path: Path, database_url: str) -> None:
    backup, target = tmp_path / "backup", tmp_path / "restored"
    call_command("backup", str(backup))
    attachment = next(entry["path"] for entry in _manifest(backup)["files"] if entry.get("storage") == "attachments")
    damaged = bytearray((backup / attachment).read_bytes())
    damaged[10] ^= 0xFF
    (backup / attachment).write_bytes(bytes(damaged))

    refused = _deskhand("restore", str(backup), data_dir=target, database_url=database_url)
    assert refused.returncode != 0
    assert f"{attachment} (its checksum does not match the manifest)" in refused.stderr
    assert "nothing was restored" in refused.stderr
    assert _target_is_empty(target, database_url)


@pytest.mark.parametrize("damage", ["missing key", "truncated database", "no manifest"])
def test_each_kind_of_damage_is_named(help_desk: Item, tmp_path: Path, damage: str) -> None:
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    database = backup / _manifest(backup)["database"]["path"]
    if damage == "missing key":
        (backup / "keys" / "mailbox_key").unlink()
        expected = "keys/mailbox_key (missing)"
    elif damage == "truncated database":
        database.write_bytes(database.read_bytes()[:1000])
        expected = f"{database.name} (its checksum does not match the manifest)"
    else:
        (backup / "manifest.json").unlink()
        expected = "holds no manifest.json"
    # The checks come first: the test database, which is not empty, is never looked at.
    with pytest.raises(CommandError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        call_command("restore", str(backup))


def test_a_restore_refuses_a_database_that_holds_a_help_desk(help_desk: Item, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    keys = {name: (Path(django_settings.DATA_DIR) / name).read_bytes() for name in ("secret_key", "mailbox_key")}
    before = _counts()
    with pytest.raises(CommandError, match="already holds"):
        call_command("restore", str(backup))
    assert _counts() == before
    assert keys == {name: (Path(django_settings.DATA_DIR) / name).read_bytes() for name in keys}


def test_a_backup_of_another_database_vendor_is_refused(help_desk: Item, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    manifest = _manifest(backup)
    other = "postgresql" if manifest["database"]["vendor"] == "sqlite" else "sqlite"
    manifest["database"]["vendor"] = other
    (backup / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match=f"This is a backup of a {other} database"):
        call_command("restore", str(backup))


def test_a_backup_goes_only_into_a_new_or_empty_directory(tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    refused = _deskhand("backup", str(busy), data_dir=tmp_path / "data", database_url="")
    assert refused.returncode != 0 and "is not empty" in refused.stderr
    assert [path.name for path in busy.iterdir()] == ["notes.txt"]

    (tmp_path / "file").write_text("")
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("backup", str(tmp_path / "file"))


def test_a_failed_backup_leaves_nothing_behind(help_desk: Item, tmp_path: Path, monkeypatch: Any) -> None:
    from deskhand.system import backup as backups

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(backups, "_entry", broken)  # after the database copy is written
    with pytest.raises(OSError, match="disk full"):
        call_command("backup", str(tmp_path / "new"))
    assert not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(OSError, match="disk full"):
        call_command("backup", str(tmp_path / "empty"))
    assert list((tmp_path / "empty").iterdir()) == []


def test_a_backup_taken_while_tickets_are_written_restores_consistently(
        help_desk: Item, agent_actor: Actor, tmp_path: Path, database_url: str) -> None:
    backup, target = tmp_path / "backup", tmp_path / "restored"
    stop, created, errors = threading.Event(), [], []

    def write_tickets() -> None:
        try:
            while not stop.is_set():
                number = len(created)
                item = submit_request(
                    ItemDraft(title=f"Busy {number}", requester_email=f"busy{number}@acme.example"),
                    body="Attached.", channel="portal", actor=Actor.customer(f"busy{number}@acme.example"),
                    attachments=[NewAttachment(name=f"busy{number}.txt", content=os.urandom(2000))])
                created.append(item.pk)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=write_tickets)
    writer.start()
    try:
        _wait_for(lambda: len(created) >= 3)
        call_command("backup", str(backup))
        during = len(created)
        _wait_for(lambda: len(created) >= during + 3)  # writes went on after the snapshot
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not errors, errors

    manifest = _manifest(backup)
    tables = manifest["database"]["tables"]
    busy_in_backup = tables["work_item"] - 2  # the help desk's own ticket and its mail's
    assert 3 <= busy_in_backup < len(created)
    # Every attachment the snapshot names is in the backup, and none that it does not.
    assert sum(1 for entry in manifest["files"] if entry.get("storage") == "attachments") == \
        tables["work_attachment"] == 3 + busy_in_backup

    restored = _deskhand("restore", str(backup), data_dir=target, database_url=database_url)
    assert restored.returncode == 0, restored.stderr
    seen = _inspect(target, database_url)
    assert seen["counts"] == tables
    assert all(recorded == actual for recorded, actual in seen["attachments"].values())
    assert len(seen["attachments"]) == 3 + busy_in_backup


def _wait_for(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_restored_help_desk_takes_new_work(help_desk: Item, tmp_path: Path, database_url: str) -> None:
    """Sequences and search tables come back with the rows: a new ticket after a restore just works."""
    backup, target = tmp_path / "backup", tmp_path / "restored"
    call_command("backup", str(backup))
    assert _deskhand("restore", str(backup), data_dir=target, database_url=database_url).returncode == 0
    script = ("from deskhand.core.actors import SYSTEM\n"
              "from deskhand.work.inputs import ItemDraft\n"
              "from deskhand.work.services.items import submit_ticket\n"
              "from deskhand.work.models import Item\n"
              "submit_ticket(ItemDraft(title='After the restore', requester_email='new@acme.example'), actor=SYSTEM)\n"
              "print(Item.objects.count(), Item.objects.filter(title__icontains='restore').count())")
    shown = _deskhand("shell", "-c", script, data_dir=target, database_url=database_url)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1].split() == [str(Item.objects.count() + 1), "1"]



def test_a_file_lost_from_storage_is_named_and_the_rest_is_backed_up(help_desk: Item, tmp_path: Path) -> None:
    from django.core.files.storage import storages

    lost = Attachment.objects.get(name="boot.log")
    storages["attachments"].delete(lost.file.name)
    with pytest.raises(CommandError, match=f"attachments:{lost.file.name} \\(missing from storage\\)"):
        call_command("backup", str(tmp_path / "backup"))
    manifest = _manifest(tmp_path / "backup")  # the backup is whole otherwise, and says what it lacks
    assert manifest["problems"] == [{"storage": "attachments", "name": lost.file.name, "problem": "missing from storage"}]
    assert sum(1 for entry in manifest["files"] if entry.get("storage") == "attachments") == 2




def _bucket_url(endpoint: str) -> tuple[str, Any, str]:
    """A new bucket: its DESKHAND_STORAGE_URL, a client and its name."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="deskhand-test", aws_secret_access_key="s3cr3t")
    name = f"deskhand-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return (f"s3://deskhand-test:s3cr3t@{name}/files?endpoint_url={quote(endpoint, safe='')}"
            f"&region=us-east-1&addressing_style=path"), client, name


def test_attachments_in_a_bucket_are_backed_up_and_restored_into_another_bucket(
        s3_endpoint: str, settings: Any, tmp_path: Path, agent_actor: Actor, database_url: str) -> None:
    from deskhand.core.storage import attachment_storage_settings

    source_url, _client, _name = _bucket_url(s3_endpoint)
    settings.STORAGES = {**settings.STORAGES, "attachments": attachment_storage_settings(source_url, location=tmp_path)}
    ticket = submit_ticket(ItemDraft(title="Printer on fire", requester_email="bob@acme.example"), actor=agent_actor)
    add_message(ticket, kind="reply", body="Photo.", actor=agent_actor,
                attachments=[NewAttachment(name="screen.png", content=PNG), NewAttachment(name="a.log", content=b"x" * 5000)])
    rows = {str(a.file.name): a.sha256 for a in Attachment.objects.all()}
    backup, target = tmp_path / "backup", tmp_path / "restored"
    call_command("backup", str(backup))
    assert {e["name"]: e["sha256"] for e in _manifest(backup)["files"] if e.get("storage") == "attachments"} == rows

    target_url, client, name = _bucket_url(s3_endpoint)
    restored = _deskhand("restore", str(backup), data_dir=target, database_url=database_url,
                         DESKHAND_STORAGE_URL=target_url)
    assert restored.returncode == 0, restored.stderr
    keys = {entry["Key"] for entry in client.list_objects_v2(Bucket=name)["Contents"]}
    assert keys == {f"files/{file}" for file in rows}
    seen = _inspect(target, database_url, DESKHAND_STORAGE_URL=target_url)
    assert {file: shas[1] for file, shas in seen["attachments"].items()} == rows
    assert not (target / "attachments").exists()  # nothing went to the data directory
