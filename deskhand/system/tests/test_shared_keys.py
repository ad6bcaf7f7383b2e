"""Several hosts, one database: DESKHAND_SECRET_KEY and DESKHAND_MAILBOX_KEY make every host read
what another one wrote. Each "host" here is a `deskhand` process with a data directory of its own."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command

from deskhand.core.keys import checked_mailbox_key, checked_secret_key, new_mailbox_key, new_secret_key
from deskhand.system.tests.conftest import throwaway_database

DESKHAND = str(Path(sys.executable).with_name("deskhand"))
PASSWORD = "imap-Pa55-shared-between-hosts"

STORE_PASSWORD = f"""
from deskhand.core.actors import SYSTEM
from deskhand.mail.inputs import ImapSettings
from deskhand.mail.services import create_mailbox
create_mailbox(address="help@acme.example", imap=ImapSettings(host="imap.acme.example", username="help",
               password="{PASSWORD}"), actor=SYSTEM)
"""
READ_PASSWORD = """
from deskhand.mail.models import Mailbox
print("password:", Mailbox.objects.get(address="help@acme.example").imap_password)
"""
SIGN_IN = """
from django.conf import settings
from django.test import Client
from deskhand.agents.services import ensure_admin
from deskhand.core.actors import SYSTEM
client = Client()
client.force_login(ensure_admin("owner@acme.example", password="a-long-admin-password", actor=SYSTEM))
print("cookie:", client.cookies[settings.SESSION_COOKIE_NAME].value)
"""
OPEN_APP = """
from django.conf import settings
from django.test import Client
client = Client()
client.cookies[settings.SESSION_COOKIE_NAME] = "{cookie}"
response = client.get("/customers")
print("answer:", response.status_code, response.get("Location", ""))
"""


@dataclass(frozen=True)
class Cluster:
    """One shared database; hosts are data directories under `root`."""

    root: Path
    database_url: str

    def run(self, host: str, code: str, **variables: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DESKHAND_DATA_DIR": str(self.root / host), "DATABASE_URL": self.database_url,
               **variables}
        for name in ("DESKHAND_SECRET_KEY", "DESKHAND_MAILBOX_KEY"):
            if name not in variables:
                env.pop(name, None)
        return subprocess.run([DESKHAND, "shell", "--no-imports", "-c", code], env=env, capture_output=True,
                              text=True, timeout=120)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("hosts")
    with throwaway_database() as database_url:
        shared = database_url or f"sqlite:///{root / 'shared.sqlite3'}"
        env = {**os.environ, "DESKHAND_DATA_DIR": str(root / "migrate"), "DATABASE_URL": shared}
        subprocess.run([DESKHAND, "migrate", "--no-input", "-v0"], env=env, check=True, timeout=300)
        yield Cluster(root=root, database_url=shared)


def _said(done: subprocess.CompletedProcess[str], label: str) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout.split(f"{label}:")[-1].strip()


def test_a_mailbox_password_stored_on_one_host_is_read_on_another_with_the_same_key(cluster: Cluster) -> None:
    key = new_mailbox_key()
    stored = cluster.run("a", STORE_PASSWORD, DESKHAND_MAILBOX_KEY=key)
    assert stored.returncode == 0, stored.stderr
    assert _said(cluster.run("b", READ_PASSWORD, DESKHAND_MAILBOX_KEY=key), "password") == PASSWORD
    # The key lives in the environment only; no host wrote a key file of its own.
    assert not list(cluster.root.glob("*/mailbox_key"))

    # A host without it says what is missing, and makes no key that could not read the password.
    done = cluster.run("c", READ_PASSWORD)
    assert done.returncode != 0 and PASSWORD not in done.stdout + done.stderr
    assert "set DESKHAND_MAILBOX_KEY to the key the other Deskhand processes use" in done.stderr
    done = cluster.run("c", STORE_PASSWORD.replace("help@", "sales@"))
    assert done.returncode != 0 and "DESKHAND_MAILBOX_KEY" in done.stderr
    assert not (cluster.root / "c" / "mailbox_key").exists()
    # The web processes refuse to start there, saying so (`token create` makes the same checks).
    env = {**os.environ, "DESKHAND_DATA_DIR": str(cluster.root / "c"), "DATABASE_URL": cluster.database_url}
    env.pop("DESKHAND_MAILBOX_KEY", None)
    done = subprocess.run([DESKHAND, "token", "create", "--email", "nobody@acme.example"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "set DESKHAND_MAILBOX_KEY" in done.stderr
    # Another key reads nothing (and says why), rather than failing every page that lists mailboxes.
    done = cluster.run("d", READ_PASSWORD, DESKHAND_MAILBOX_KEY=new_mailbox_key())
    assert _said(done, "password") == "" and "every process must use the same key" in done.stderr


def test_a_session_made_on_one_host_is_valid_on_another_with_the_same_secret_key(cluster: Cluster) -> None:
    key = new_secret_key()
    cookie = _said(cluster.run("a", SIGN_IN, DESKHAND_SECRET_KEY=key), "cookie")
    assert _said(cluster.run("b", OPEN_APP.format(cookie=cookie), DESKHAND_SECRET_KEY=key), "answer") == "200"
    # A host with a key of its own (its data directory's file) does not know the session.
    status, location = _said(cluster.run("c", OPEN_APP.format(cookie=cookie)), "answer").split()
    assert status == "302" and location.startswith("/login")


def test_keys_prints_a_new_pair_for_an_env_file(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("keys", stdout=out)
    # From the shell: it reads no settings (a bad key in the environment does not stop it) and
    # makes no data directory where it runs.
    env = {**os.environ, "DESKHAND_SECRET_KEY": "bad"}
    env.pop("DESKHAND_DATA_DIR", None)
    done = subprocess.run([DESKHAND, "keys"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and list(tmp_path.iterdir()) == []
    printed = []
    for output in (out.getvalue(), done.stdout):
        lines = output.splitlines()
        assert [line.split("=", 1)[0] for line in lines] == ["DESKHAND_SECRET_KEY", "DESKHAND_MAILBOX_KEY"]
        secret, mailbox = (line.split("=", 1)[1] for line in lines)
        assert checked_secret_key(secret) == secret and checked_mailbox_key(mailbox) == mailbox
        printed.append((secret, mailbox))
    assert printed[0][0] != printed[1][0] and printed[0][1] != printed[1][1]


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("DESKHAND_SECRET_KEY", "short-Secret-Value", "DESKHAND_SECRET_KEY is too short"),
    ("DESKHAND_SECRET_KEY", "a secret with spaces " * 4, "DESKHAND_SECRET_KEY may not contain spaces"),
    ("DESKHAND_MAILBOX_KEY", "not-a-Mailbox-Key", "DESKHAND_MAILBOX_KEY is not a mailbox key"),
    ("DESKHAND_MAILBOX_KEY", "y75rTrmWAIvhJg621e3CG6bSBbCV5ZCcVmeSmQ7ttD!=", "DESKHAND_MAILBOX_KEY is not a mailbox key"),
])
def test_a_key_that_is_not_one_stops_the_process_without_showing_it(
        tmp_path: Path, variable: str, value: str, expected: str) -> None:
    env = {**os.environ, "DESKHAND_DATA_DIR": str(tmp_path), variable: value}
    done = subprocess.run([DESKHAND, "check"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and expected in done.stderr
    assert value.strip()[:12] not in done.stdout + done.stderr
