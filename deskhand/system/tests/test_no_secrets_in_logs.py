"""No process logs a secret: `deskhand serve` (web, worker, scheduler, SMTP listener) runs with a
known value in every secret setting, and is made to fail where a secret is at hand (outbound
mail to a relay that does not answer, an IMAP mailbox that does not answer, a Redis and an S3
store that do not answer, wrong passwords and tokens); none of the values appears in its output."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from deskhand.core.keys import new_mailbox_key, new_secret_key
from deskhand.system.tests.test_serve import _stop

DESKHAND = str(Path(sys.executable).with_name("deskhand"))

ADMIN_PASSWORD = "Admin-Pass-q7Zk2w"
SMTP_PASSWORD = "Smtp-Pass-h4Rt9v"
IMAP_PASSWORD = "Imap-Pass-x2Lm8n"
REDIS_PASSWORD = "Redis-Pass-b6Np3s"
S3_SECRET = "S3-Secret-k9Vc1d/+"
DATABASE_PASSWORD = "Db-Pass-w5Tg7j"
METRICS_TOKEN = "Metrics-Token-m3Qx6r"
WRONG_PASSWORD = "Wrong-Pass-c8Yf4p"
WRONG_TOKEN = "dh_Wrong-Token-n1Hs5e"
PORTAL_PASSWORD = "Portal-Pass-j2Dk9u"
REGISTER_PASSWORD = "Register-Pass-v7Bw3a"

MAKE_PORTAL_ACCOUNT = f"""
from deskhand.accounts.models import CustomerAccount
from deskhand.accounts.services import set_password
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.models import Source
from deskhand.customers.services import find_or_create_customer
customer, _ = find_or_create_customer("zoe@acme.example", name="Zoë", source=Source.PORTAL, actor=SYSTEM)
set_password(CustomerAccount.objects.get_or_create(customer=customer)[0], "{PORTAL_PASSWORD}")
from deskhand.agents.models import Agent
from deskhand.agents.services import create_agent, welcome_token
admin = Agent.objects.get(email="owner@deskhand.test")
invited = create_agent("new.agent@deskhand.test", name="New Agent", actor=Actor.agent(admin))
print("welcome:", welcome_token(invited))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port that refuses connections: bound, never listening (so nothing else takes it meanwhile)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def _with_password(database_url: str) -> str:
    """The PostgreSQL URL with a password (trust authentication ignores it); SQLite has none."""
    return re.sub(r"^(postgres://[^:@/]+)@", rf"\1:{DATABASE_PASSWORD}@", database_url) if database_url else ""


def _csrf(client: httpx.Client, path: str) -> str:
    client.get(path)
    return str(client.cookies["csrftoken"])


def _wait(what: str, check: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(0.5)


def test_serve_logs_no_secret_while_everything_that_holds_one_fails(
        tmp_path: Path, database_url: str, closed_port: int) -> None:
    port, smtp_port = _free_port(), _free_port()
    secret_key, mailbox_key = new_secret_key(), new_mailbox_key()
    database_url = _with_password(database_url)
    env = {
        **os.environ,
        "DESKHAND_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "DESKHAND_HTTP_ADDR": f"127.0.0.1:{port}",
        "DESKHAND_SMTP_ADDR": f"127.0.0.1:{smtp_port}",
        "DESKHAND_SUPPORT_ADDRESSES": "support@deskhand.test",
        "DESKHAND_ADMIN_EMAIL": "owner@deskhand.test",
        "DESKHAND_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "EMAIL_URL": f"smtp+tls://mailer%40deskhand.test:{SMTP_PASSWORD}@127.0.0.1:{closed_port}",
        "DESKHAND_REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:{closed_port}/0",
        "DESKHAND_STORAGE_URL": (f"s3://AKIDEXAMPLE:{quote(S3_SECRET, safe='')}@deskhand/files"
                                 f"?endpoint_url=http://127.0.0.1:{closed_port}&region=us-east-1"),
        "DESKHAND_METRICS_TOKEN": METRICS_TOKEN,
        "DESKHAND_SECRET_KEY": secret_key,
        "DESKHAND_MAILBOX_KEY": mailbox_key,
    }
    for name in ("DESKHAND_TASKS_URL", "DESKHAND_PUBLIC_URL"):
        env.pop(name, None)
    log = tmp_path / "serve.log"
    server = subprocess.Popen([DESKHAND, "serve"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    other_output = []
    try:
        base = f"http://127.0.0.1:{port}"
        # /healthz answers 503 (Redis and S3 do not answer) once the server is up.
        _wait("serve answering", lambda: _answers(f"{base}/healthz") or server.poll() is not None)
        assert server.poll() is None, log.read_text()

        created = subprocess.run([DESKHAND, "token", "create", "--email", "owner@deskhand.test"], env=env,
                                 capture_output=True, text=True, timeout=120)
        assert created.returncode == 0, created.stderr
        token = created.stdout.split()[-1]
        other_output.append(created.stderr)
        account = subprocess.run([DESKHAND, "shell", "--no-imports", "-c", MAKE_PORTAL_ACCOUNT], env=env,
                                 capture_output=True, text=True, timeout=120)
        assert account.returncode == 0, account.stderr
        welcome = account.stdout.split("welcome:")[-1].strip()
        other_output.append(account.stderr)

        api = httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        # A reply: its mail goes to a relay that does not answer.
        ticket = api.post("/tickets", json={"title": "Printer", "requester_email": "zoe@acme.example"}).json()
        assert api.post(f"/tickets/{ticket['id']}/replies", json={"body": "On it."}).status_code == 201
        # An IMAP mailbox whose server does not answer: the test, the scheduler's poll, IDLE.
        mailbox = api.post("/mailboxes", json={"address": "imap@deskhand.test", "imap": {
            "host": "127.0.0.1", "port": closed_port, "security": "none", "username": "help",
            "password": IMAP_PASSWORD}})
        assert mailbox.status_code == 201, mailbox.text
        tested = api.post(f"/mailboxes/{mailbox.json()['id']}/test")
        assert tested.status_code == 200 and not tested.json()["ok"], tested.text
        # Requests that fail with a token: a wrong one, and the right one asking for the impossible.
        assert httpx.get(f"{base}/api/v1/customers", headers={"Authorization": f"Bearer {WRONG_TOKEN}"}).status_code == 401
        assert httpx.get(f"{base}/api/v1/customers", params={"token": WRONG_TOKEN}).status_code == 401
        assert api.get("/tickets/987654").status_code == 404
        assert api.post("/customers", json={"email": f"not an address {WRONG_TOKEN}"}).status_code == 422
        assert httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {WRONG_TOKEN}"}).status_code == 404
        assert httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200

        # The agents' sign-in: a wrong password, then the admin's.
        with httpx.Client(base_url=base, timeout=30) as browser:
            form = {"csrfmiddlewaretoken": _csrf(browser, "/login"), "email": "owner@deskhand.test"}
            assert browser.post("/login", data={**form, "password": WRONG_PASSWORD}).status_code == 400
            assert browser.post("/login", data={**form, "password": ADMIN_PASSWORD}).status_code == 302
            assert browser.get("/reports").status_code == 200  # its figures are kept in Redis, which does not answer
        # An invited agent's link, with a password it refuses (the link still works afterwards).
        with httpx.Client(base_url=base, timeout=30) as browser:
            form = {"csrfmiddlewaretoken": _csrf(browser, f"/welcome/{welcome}"), "password": "short"}
            assert browser.post(f"/welcome/{welcome}", data=form).status_code == 422
        # The portal: a registration, a wrong password, a sign-in.
        with httpx.Client(base_url=base, timeout=30) as browser:
            registration = {"csrfmiddlewaretoken": _csrf(browser, "/portal/register"), "email": "new@acme.example",
                            "name": "New", "password": REGISTER_PASSWORD}
            assert browser.post("/portal/register", data=registration).status_code in (200, 302)
            form = {"csrfmiddlewaretoken": _csrf(browser, "/portal/login"), "email": "zoe@acme.example"}
            assert browser.post("/portal/login", data={**form, "password": WRONG_PASSWORD}).status_code == 400
            assert browser.post("/portal/login", data={**form, "password": PORTAL_PASSWORD}).status_code == 302

        # The failures were logged, where a careless message would have shown a secret.
        _wait("the outbox's failure in the log", lambda: "outbox:" in log.read_text())
        _wait("the IMAP poll's failure in the log", lambda: "IMAP imap@deskhand.test" in log.read_text())
    finally:
        _stop(server)
    output = log.read_text() + "\n".join(other_output)
    assert "Connection refused" in output and "cache unavailable" in output  # Redis and the relay failed
    secrets = {"ADMIN_PASSWORD": ADMIN_PASSWORD, "SMTP_PASSWORD": SMTP_PASSWORD, "IMAP_PASSWORD": IMAP_PASSWORD,
               "REDIS_PASSWORD": REDIS_PASSWORD, "S3_SECRET": S3_SECRET, "S3_SECRET (encoded)": quote(S3_SECRET, safe=""),
               "METRICS_TOKEN": METRICS_TOKEN, "WRONG_PASSWORD": WRONG_PASSWORD, "WRONG_TOKEN": WRONG_TOKEN,
               "PORTAL_PASSWORD": PORTAL_PASSWORD, "welcome link": welcome, "REGISTER_PASSWORD": REGISTER_PASSWORD, "token": token,
               "token's secret part": token[-20:], "DESKHAND_SECRET_KEY": secret_key,
               "DESKHAND_MAILBOX_KEY": mailbox_key, "DATABASE_PASSWORD": DATABASE_PASSWORD}
    shown = sorted(name for name, value in secrets.items() if value in output)
    assert shown == [], f"logged: {shown}\n{output[-5000:]}"


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=10)
    except httpx.TransportError:
        return False
    return True


@pytest.mark.parametrize(("variable", "url"), [
    ("EMAIL_URL", "smtp+tls://mailer:Smtp/Pass-r4Tz@mail.example:587"),
    ("DESKHAND_TASKS_URL", "redis://:Redis/Pass-r4Tz@127.0.0.1:6379/0"),
    ("DESKHAND_REDIS_URL", "redis://:Redis#Pass-r4Tz@127.0.0.1:6379/0"),
    ("DATABASE_URL", "postgres://deskhand:Db/Pass-r4Tz@127.0.0.1:5432/deskhand"),
])
def test_a_url_with_an_unencoded_password_stops_the_process_without_showing_it(
        tmp_path: Path, variable: str, url: str) -> None:
    """Read later, by redis-py or smtplib, such a URL fails with its port's text: "Port could not be
    cast to integer value as 'Redis'", in a log. It is refused when settings load instead."""
    env = {**os.environ, "DESKHAND_DATA_DIR": str(tmp_path), variable: url}
    done = subprocess.run([DESKHAND, "check"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and f"{variable} cannot be read: percent-encode" in done.stderr
    assert "Pass-r4Tz" not in done.stdout + done.stderr and "'Redis'" not in done.stderr
