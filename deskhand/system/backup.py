"""`deskhand backup` and `deskhand restore`: a consistent copy of the database, the data directory's
keys and every stored file, with a manifest of checksums; a restore only into an empty database."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import connections, models
from django.db.migrations.loader import MigrationLoader

from deskhand.config.services import LOGO_PATH
from deskhand.work.models.messages import attachment_storage

FORMAT = 1
MANIFEST = "manifest.json"
KEYS = ("secret_key", "mailbox_key")
# The storages a backup reads files from, and the only ones a restore writes to.
STORAGES = ("attachments", "default")
CHUNK = 1024 * 1024
# libpq connection options that may come from DATABASE_URL's query string (sslmode=require…).
LIBPQ_OPTIONS = frozenset({"sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "connect_timeout",
                           "application_name", "options", "target_session_attrs", "gssencmode",
                           "channel_binding", "service", "passfile"})


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class Snapshot:
    """What the database held at the moment of the copy."""

    tables: dict[str, int]
    migrations: list[str]  # app.name, as applied
    # (storage alias, name) → the sha256 the row recorded, or "" when its table keeps none.
    stored: dict[tuple[str, str], str]


@dataclass
class BackupSummary:
    directory: Path
    vendor: str
    tables: int = 0
    rows: int = 0
    database_bytes: int = 0
    keys: list[str] = field(default_factory=list)
    stored_files: int = 0
    stored_bytes: int = 0
    problems: list[str] = field(default_factory=list)

    def text(self) -> str:
        return (f"Backup written to {self.directory}: the {self.vendor} database ({self.tables} tables, "
                f"{self.rows} rows, {_size(self.database_bytes)}), keys ({', '.join(self.keys)}), "
                f"{self.stored_files} stored files ({_size(self.stored_bytes)}).")


@dataclass
class RestoreSummary:
    directory: Path
    created_at: str
    version: str
    vendor: str
    tables: int = 0
    rows: int = 0
    keys: list[str] = field(default_factory=list)
    stored_files: int = 0
    stored_bytes: int = 0
    already_there: int = 0
    missing_at_backup: int = 0
    unapplied_migrations: int = 0

    def text(self) -> str:
        lines = [f"Restored the backup of {self.created_at} (Deskhand {self.version}, {self.vendor}) from {self.directory}:",
                 f"  database: {self.tables} tables, {self.rows} rows",
                 f"  keys: {', '.join(self.keys)} into {settings.DATA_DIR}",
                 f"  stored files: {self.stored_files} ({_size(self.stored_bytes)})"
                 + (f", {self.already_there} of them already there" if self.already_there else "")]
        if self.missing_at_backup:
            lines.append(f"  {self.missing_at_backup} files the database names were already missing when the backup "
                         f"was made (manifest.json, \"problems\").")
        if self.unapplied_migrations:
            lines.append(f"  {self.unapplied_migrations} migrations of this Deskhand are newer than the backup: "
                         "`deskhand migrate` applies them (`make run` does).")
        lines.append("Start Deskhand as usual.")
        return "\n".join(lines)


# --- Backup --------------------------------------------------------------------------------------


def write_backup(directory: Path) -> BackupSummary:
    """Copy the database (one consistent snapshot, taken while Deskhand runs), then the keys, then
    every file the snapshot's rows name, into `directory` (new or empty), and the manifest last.
    A failure leaves nothing behind."""
    created = _prepare_directory(directory)
    try:
        return _write_backup(directory)
    except BaseException:
        _empty(directory, remove=created)
        raise


def _write_backup(directory: Path) -> BackupSummary:
    vendor = settings.DATABASE_VENDOR
    created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    database_path = directory / ("database.sqlite3" if vendor == "sqlite" else "database.pgdump")
    snapshot = _sqlite_snapshot(database_path) if vendor == "sqlite" else _postgres_snapshot(database_path)
    database_path.chmod(0o600)
    summary = BackupSummary(directory=directory, vendor=vendor, tables=len(snapshot.tables),
                            rows=sum(snapshot.tables.values()), database_bytes=database_path.stat().st_size)
    files = [_entry(directory, database_path)]

    for key in KEYS:
        source = Path(settings.DATA_DIR) / key
        if source.is_file():  # mailbox_key exists once a secret was stored
            target = directory / "keys" / key
            with source.open("rb") as handle:
                files.append(_write(directory, target, handle))
            summary.keys.append(key)

    if storages["default"].exists(LOGO_PATH):  # the portal's logo: a setting names it, no row
        snapshot.stored[("default", LOGO_PATH)] = ""
    # After the snapshot: a file added since does not matter, one the snapshot names must be here.
    problems = []
    for (alias, name), expected in sorted(snapshot.stored.items()):
        target = directory / "storage" / alias / _relative(name)
        try:
            with storages[alias].open(name, "rb") as handle:
                entry = _write(directory, target, handle)
        except FileNotFoundError:
            problems.append({"storage": alias, "name": name, "problem": "missing from storage"})
            continue
        if expected and entry["sha256"] != expected:
            problems.append({"storage": alias, "name": name, "problem": "differs from its row's sha256"})
        files.append({**entry, "storage": alias, "name": name})
        summary.stored_files += 1
        summary.stored_bytes += int(entry["size"])
    summary.problems = [f"{p['storage']}:{p['name']} ({p['problem']})" for p in problems]

    manifest = {
        "format": FORMAT,
        "deskhand_version": _deskhand_version(),
        "created_at": created_at,
        "database": {"vendor": vendor, "path": database_path.name, "tables": snapshot.tables,
                     "migrations": snapshot.migrations},
        "files": files,
        "problems": problems,
    }
    temporary = directory / f".{MANIFEST}.partial"
    temporary.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    temporary.chmod(0o600)
    os.replace(temporary, directory / MANIFEST)  # its presence says the backup is whole
    return summary


def _prepare_directory(directory: Path) -> bool:
    """`directory` ready for a backup, 0700; True when this call created it."""
    if directory.exists() or directory.is_symlink():
        if not directory.is_dir():
            raise BackupError(f"{directory} exists and is not a directory.")
        if any(directory.iterdir()):
            raise BackupError(f"{directory} is not empty: a backup goes into a new or empty directory, "
                              "so that it never mixes with another one.")
        directory.chmod(0o700)
        return False
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.mkdir(mode=0o700)
    directory.chmod(0o700)  # whatever the umask
    return True


def _empty(directory: Path, *, remove: bool) -> None:
    if remove:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _sqlite_snapshot(target: Path) -> Snapshot:
    source = connections["default"].settings_dict["NAME"]
    if not Path(source).is_file():
        raise BackupError(f"There is no database at {source} to back up.")
    with contextlib.closing(sqlite3.connect(source, timeout=20)) as live, \
            contextlib.closing(sqlite3.connect(target)) as copy:
        # One step: one read transaction, so one consistent state. In WAL mode the writers go on.
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, without -wal
        return _read_snapshot(copy.cursor(), "sqlite")


def _postgres_snapshot(target: Path) -> Snapshot:
    """pg_dump and our own reads share one exported snapshot: the row counts and the list of stored
    files are those of the dump, whatever is written meanwhile."""
    import psycopg

    pg_dump = _program("pg_dump")
    conninfo, password, environment = _postgres_access()
    with psycopg.connect(conninfo, password=password or None) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            row = cursor.fetchone()
            assert row is not None
            _run([pg_dump, "--format=custom", "--no-password", f"--snapshot={row[0]}", f"--file={target}",
                  f"--dbname={conninfo}"], environment, what="pg_dump")
            snapshot = _read_snapshot(cursor, "postgresql")
        connection.rollback()
    return snapshot


def _read_snapshot(cursor: Any, vendor: str) -> Snapshot:
    tables = {name: _count(cursor, name) for name in _table_names(cursor, vendor)}
    migrations: list[str] = []
    if "django_migrations" in tables:
        cursor.execute('SELECT "app", "name" FROM "django_migrations" ORDER BY "id"')
        migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]
    stored: dict[tuple[str, str], str] = {}
    for alias, table, column, sha_column in _file_columns():
        if table not in tables:
            continue
        sha = _quote(sha_column) if sha_column else "''"
        cursor.execute(f"SELECT {_quote(column)}, {sha} FROM {_quote(table)} WHERE {_quote(column)} <> ''")
        for name, sha256 in cursor.fetchall():
            stored.setdefault((alias, str(name)), str(sha256 or ""))
    return Snapshot(tables=tables, migrations=migrations, stored=stored)


def _file_columns() -> list[tuple[str, str, str, str]]:
    """(storage alias, table, column, sha256 column or "") of every file field of every model."""
    columns = []
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                storage = getattr(model_field, "_storage_callable", None)
                if storage is not attachment_storage:
                    raise BackupError(f"{model._meta.label}.{model_field.name} keeps its files in a storage the "
                                      "backup does not know: teach deskhand/system/backup.py about it.")
                sha = next((str(f.column) for f in model._meta.concrete_fields if f.name == "sha256"), "")
                columns.append(("attachments", model._meta.db_table, str(model_field.column), sha))
    return columns


# --- Restore -------------------------------------------------------------------------------------


def restore_backup(directory: Path) -> RestoreSummary:
    """Check every file of the backup in `directory` against its manifest and refuse a target that
    is not empty before anything is written; then the stored files, the keys, and the database
    last (one transaction, or one rename), so that a failure leaves the database empty."""
    manifest = _read_manifest(directory)
    _verify(directory, manifest)
    database = manifest["database"]
    vendor = settings.DATABASE_VENDOR
    if database["vendor"] != vendor:
        raise BackupError(f"This is a backup of a {database['vendor']} database; Deskhand here uses {vendor} "
                          f"(DATABASE_URL). Restore it onto {database['vendor']}.")
    unapplied = _check_migrations(database["migrations"])
    _check_database_empty(vendor)
    stored = [entry for entry in manifest["files"] if "storage" in entry]
    already_there = _check_storage(directory, stored)

    summary = RestoreSummary(directory=directory, created_at=manifest["created_at"],
                             version=manifest["deskhand_version"], vendor=vendor, unapplied_migrations=unapplied,
                             missing_at_backup=sum(1 for p in manifest["problems"] if p["problem"].startswith("missing")))
    for entry in stored:
        summary.stored_bytes += int(entry["size"])
        summary.stored_files += 1
        if (entry["storage"], entry["name"]) in already_there:
            summary.already_there += 1
            continue
        with (directory / entry["path"]).open("rb") as handle:
            saved = storages[entry["storage"]].save(entry["name"], File(handle))
        if saved != entry["name"]:
            raise BackupError(f"Storage {entry['storage']} saved {entry['name']} as {saved}.")
    for entry in manifest["files"]:
        path = PurePosixPath(entry["path"])
        if path.parts[0] == "keys" and path.name in KEYS:
            _install(directory / entry["path"], Path(settings.DATA_DIR) / path.name)
            summary.keys.append(path.name)

    dump = directory / database["path"]
    tables = _restore_sqlite(dump) if vendor == "sqlite" else _restore_postgres(dump)
    if tables != database["tables"]:
        differ = sorted(name for name in set(tables) | set(database["tables"])
                        if tables.get(name) != database["tables"].get(name))
        raise BackupError(f"The restored database differs from the manifest in {', '.join(differ[:10])}.")
    summary.tables, summary.rows = len(tables), sum(tables.values())
    return summary


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} holds no {MANIFEST}: not a Deskhand backup, or one that did not finish.")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{path}: backup format {manifest.get('format')!r}; this Deskhand reads format {FORMAT}.")
        for key in ("created_at", "deskhand_version", "database", "files", "problems"):
            manifest[key]  # noqa: B018 - a KeyError names what is missing
        for entry in manifest["files"]:
            _relative(entry["path"])
            if int(entry["size"]) < 0 or not isinstance(entry["sha256"], str):
                raise ValueError(f"bad size or sha256 of {entry['path']}")
            if "storage" in entry:
                _relative(entry["name"])
                if entry["storage"] not in STORAGES:
                    raise ValueError(f"unknown storage {entry['storage']!r}")
    except (AttributeError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{path} is damaged ({exc.__class__.__name__}: {exc}).") from None
    return manifest


def _verify(directory: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest lists is there with its size and sha256; else nothing is restored."""
    bad = []
    listed = {entry["path"] for entry in manifest["files"]}
    if manifest["database"]["path"] not in listed:
        bad.append(f"{manifest['database']['path']} (not in the manifest)")
    for entry in manifest["files"]:
        path = directory / _relative(entry["path"])
        if not path.is_file():
            bad.append(f"{entry['path']} (missing)")
            continue
        with path.open("rb") as handle:
            digest, size = _digest(handle)
        if size != int(entry["size"]) or digest != entry["sha256"]:
            bad.append(f"{entry['path']} (its checksum does not match the manifest)")
    if bad:
        shown = ", ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise BackupError(f"The backup in {directory} is damaged, nothing was restored: {shown}.")


def _check_migrations(migrations: list[str]) -> int:
    """Refuse a backup made by a newer Deskhand (migrations this code does not have); the number
    of this code's migrations the backup lacks (applied by `deskhand migrate`)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(migration.replaces)
    applied = [tuple(migration.split(".", 1)) for migration in migrations]
    unknown = [".".join(key) for key in applied if key not in known]
    if unknown:
        raise BackupError(f"This backup was made by a newer Deskhand (migrations {', '.join(unknown[:5])}): "
                          "restore it with that version or a later one.")
    have = set(applied)
    return sum(1 for key, migration in loader.disk_migrations.items()
               if key not in have and not (migration.replaces and set(migration.replaces) <= have))


def _check_database_empty(vendor: str) -> None:
    if vendor == "sqlite":
        target = Path(connections["default"].settings_dict["NAME"])
        if not target.exists() or target.stat().st_size == 0:
            return
        try:
            with contextlib.closing(sqlite3.connect(target, timeout=20)) as existing:
                names = _table_names(existing.cursor(), "sqlite")
        except sqlite3.DatabaseError:
            raise BackupError(f"{target} exists and is not an empty database: restore into an empty data "
                              "directory (DESKHAND_DATA_DIR).") from None
        if names:
            raise BackupError(f"The data directory already holds a database ({target}, {len(names)} tables): "
                              "restore into an empty data directory (DESKHAND_DATA_DIR).")
        return
    import psycopg

    conninfo, password, _environment = _postgres_access()
    with psycopg.connect(conninfo, password=password or None, autocommit=True) as connection:
        tables = connection.execute("SELECT schemaname, tablename FROM pg_tables "
                                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')").fetchall()
    if tables:
        name = connections["default"].settings_dict["NAME"]
        raise BackupError(f"The database {name} already holds {len(tables)} tables: restore needs an empty "
                          "database. Create a new one (createdb) and name it in DATABASE_URL.")


def _check_storage(directory: Path, stored: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The stored files the target already holds with the same content (skipped); a different
    file under a name the backup needs is refused before anything is written."""
    same, conflicts = set(), []
    for entry in stored:
        storage: Storage = storages[entry["storage"]]
        if not storage.exists(entry["name"]):
            continue
        with storage.open(entry["name"], "rb") as handle:
            digest, _size_ = _digest(handle)
        if digest == entry["sha256"]:
            same.add((entry["storage"], entry["name"]))
        else:
            conflicts.append(f"{entry['storage']}:{entry['name']}")
    if conflicts:
        raise BackupError(f"The storage already holds other files under the backup's names "
                          f"({', '.join(conflicts[:5])}): restore into empty storage. Nothing was restored.")
    return same


def _restore_sqlite(dump: Path) -> dict[str, int]:
    target = Path(connections["default"].settings_dict["NAME"])
    connections.close_all()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.restoring")
    with dump.open("rb") as source, temporary.open("wb") as copy:
        shutil.copyfileobj(source, copy, CHUNK)
        copy.flush()
        os.fsync(copy.fileno())
    temporary.chmod(0o600)
    for suffix in ("-wal", "-shm", "-journal"):  # of the empty database it replaces
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(temporary, target)
    with contextlib.closing(sqlite3.connect(target)) as restored:
        cursor = restored.cursor()
        return {name: _count(cursor, name) for name in _table_names(cursor, "sqlite")}


def _restore_postgres(dump: Path) -> dict[str, int]:
    import psycopg

    pg_restore = _program("pg_restore")
    conninfo, password, environment = _postgres_access()
    # One transaction: a failure leaves the database empty. Objects belong to the user Deskhand
    # connects as, whoever owned them before; comments are left out (the one on the pg_trgm
    # extension may be changed by its owner only).
    _run([pg_restore, "--no-owner", "--no-privileges", "--no-comments", "--single-transaction", "--exit-on-error",
          "--no-password", f"--dbname={conninfo}", str(dump)], environment, what="pg_restore")
    with psycopg.connect(conninfo, password=password or None, autocommit=True) as connection:
        cursor = connection.cursor()
        return {name: _count(cursor, name) for name in _table_names(cursor, "postgresql")}


# --- Helpers -------------------------------------------------------------------------------------


def _table_names(cursor: Any, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' "
                       "ESCAPE '!' ORDER BY name")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [str(row[0]) for row in cursor.fetchall()]


def _count(cursor: Any, table: str) -> int:
    cursor.execute(f"SELECT count(*) FROM {_quote(table)}")
    return int(cursor.fetchone()[0])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relative(name: str) -> PurePosixPath:
    """A stored name or manifest path as a path inside the backup; never outside it."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or any(part in ("", ".", "..") for part in path.parts) or "\\" in name:
        raise BackupError(f"Refusing the file name {name!r}: it would point outside the backup.")
    return path


def _digest(handle: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _write(directory: Path, target: Path, source: IO[bytes]) -> dict[str, Any]:
    """`source` copied to `target` (0600, in 0700 directories): its manifest entry."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as copy:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            copy.write(chunk)
    return {"path": target.relative_to(directory).as_posix(), "sha256": digest.hexdigest(), "size": size}


def _entry(directory: Path, path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        digest, size = _digest(handle)
    return {"path": path.relative_to(directory).as_posix(), "sha256": digest, "size": size}


def _install(source: Path, target: Path) -> None:
    """A key file put in place whole (0600), replacing the one a fresh data directory made itself."""
    temporary = target.with_name(f".{target.name}.restoring")
    temporary.unlink(missing_ok=True)
    with source.open("rb") as handle, open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
                                           "wb") as copy:
        shutil.copyfileobj(handle, copy)
    os.replace(temporary, target)


def _postgres_access() -> tuple[str, str, dict[str, str]]:
    """(a connection string without the password, the password, the environment for pg_dump and
    pg_restore): the password reaches them through PGPASSWORD, never on their command line."""
    from psycopg.conninfo import make_conninfo

    database = connections["default"].settings_dict
    params = {"dbname": database["NAME"], "host": database["HOST"], "port": database["PORT"],
              "user": database["USER"]}
    params.update({key: value for key, value in (database.get("OPTIONS") or {}).items() if key in LIBPQ_OPTIONS})
    conninfo = make_conninfo(**{key: str(value) for key, value in params.items() if value not in (None, "")})
    password = str(database.get("PASSWORD") or "")
    environment = dict(os.environ)
    environment.pop("PGPASSWORD", None)
    if password:
        environment["PGPASSWORD"] = password
    return conninfo, password, environment


def _program(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found: install the PostgreSQL client programs (the server's major "
                          "version or newer) and put them on PATH.")
    return found


def _run(command: list[str], environment: dict[str, str], *, what: str) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip() or f'exit code {result.returncode}'}")


def _deskhand_version() -> str:
    try:
        return version("deskhand")
    except PackageNotFoundError:
        return "unknown"


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} bytes"

