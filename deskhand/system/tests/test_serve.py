"""`deskhand serve` as a user runs it: a real process, a real HTTP client, the configured admin."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import stat
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import httpx

DESKHAND = str(Path(sys.executable).with_name("deskhand"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_migrates_ensures_the_admin_and_answers(tmp_path: Path, database_url: str) -> None:
    port = _free_port()
    smtp_port = _free_port()
    env = {
        **os.environ,
        "DESKHAND_DATA_DIR": str(tmp_path),
        "DESKHAND_HTTP_ADDR": f"127.0.0.1:{port}",
        "DESKHAND_SMTP_ADDR": f"127.0.0.1:{smtp_port}",
        "DESKHAND_SUPPORT_ADDRESSES": "support@deskhand.test, billing@deskhand.test",
        "DESKHAND_ADMIN_EMAIL": "owner@deskhand.test",
        "DESKHAND_ADMIN_PASSWORD": "a-long-admin-password",
        "DATABASE_URL": database_url,
    }
    server = subprocess.Popen([DESKHAND, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.3)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        if database_url:
            assert health.json()["database"] == "postgresql"

        created = subprocess.run([DESKHAND, "token", "create", "--email", "owner@deskhand.test"], env=env,
                                 capture_output=True, text=True, check=True)
        token = created.stdout.split()[-1]
        headers = {"Authorization": f"Bearer {token}"}
        response = httpx.post(f"{base}/api/v1/customers", json={"email": "ana@acme.com"}, headers=headers)
        assert response.status_code == 201 and response.json()["organization_name"] == "acme.com"
        assert httpx.get(f"{base}/api/v1/customers", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert httpx.get(f"{base}/api/v1/openapi.json").status_code == 200

        mailboxes = httpx.get(f"{base}/api/v1/mailboxes", headers=headers).json()["items"]
        assert sorted(m["address"] for m in mailboxes) == ["billing@deskhand.test", "support@deskhand.test"]
        _mail_becomes_a_ticket_within_a_second(base, smtp_port, headers)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    assert server.returncode is not None


def _mail_becomes_a_ticket_within_a_second(base: str, smtp_port: int, headers: dict[str, str]) -> None:
    mail = EmailMessage()
    mail["From"] = "Zoë <zoe@acme.com>"
    mail["To"] = "support@deskhand.test"
    mail["Subject"] = "Printer offline"
    mail["Message-ID"] = "<serve-1@acme.com>"
    mail.set_content("It does not print.")
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
        client.send_message(mail)
    accepted = time.monotonic()
    while True:
        tickets = httpx.get(f"{base}/api/v1/tickets", params={"search": "Printer offline"}, headers=headers).json()
        if tickets["count"]:
            break
        assert time.monotonic() - accepted < 10, "the mail did not become a ticket"
        time.sleep(0.05)
    # The promise is "within a second"; the test allows for a loaded CI machine and reports it.
    print(f"mail → ticket in {time.monotonic() - accepted:.2f} s")
    [ticket] = tickets["items"]
    assert ticket["channel"] == "email" and ticket["requester_email"] == "zoe@acme.com"
    messages = httpx.get(f"{base}/api/v1/tickets/{ticket['id']}/messages", headers=headers).json()["items"]
    assert [m["kind"] for m in messages] == ["customer"]


def test_smtpd_alone_stores_mail_for_the_workers(tmp_path: Path, database_url: str) -> None:
    smtp_port = _free_port()
    env = {**os.environ, "DESKHAND_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url,
           "DESKHAND_SMTP_ADDR": f"127.0.0.1:{smtp_port}", "DESKHAND_SUPPORT_ADDRESSES": "support@deskhand.test"}
    subprocess.run([DESKHAND, "migrate", "-v0"], env=env, check=True)
    listener = subprocess.Popen([DESKHAND, "smtpd"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", smtp_port, timeout=5)
                break
            except OSError:
                assert listener.poll() is None, listener.stdout.read().decode() if listener.stdout else ""
                assert time.monotonic() < deadline, "smtpd did not listen within 30 s"
                time.sleep(0.2)
        with client:
            client.ehlo()
            assert client.has_extn("starttls") and client.has_extn("pipelining")
            client.starttls()  # on by default, with a certificate made in the data directory
            refused = client.sendmail("ana@acme.com", ["support@deskhand.test", "nobody@nowhere.test"],
                                      b"From: ana@acme.com\r\nSubject: Via the MX host\r\n\r\nHello\r\n")
        assert refused == {"nobody@nowhere.test": (550, b"5.1.1 <nobody@nowhere.test>: no such ticket address")}
        assert stat.S_IMODE((tmp_path / "smtp-tls" / "key.pem").stat().st_mode) == 0o600
    finally:
        listener.terminate()
        listener.wait(timeout=15)
    shown = subprocess.run(
        [DESKHAND, "shell", "-c",
         "from deskhand.mail.models import InboundEmail as I; print([(i.status, i.transport) for i in I.objects.all()])"],
        env=env, capture_output=True, text=True, check=True)
    assert shown.stdout.strip().splitlines()[-1] == "[('received', 'smtp')]"


def test_smtpd_with_half_a_tls_configuration_says_what_is_missing(tmp_path: Path) -> None:
    env = {**os.environ, "DESKHAND_DATA_DIR": str(tmp_path), "DESKHAND_SMTP_ADDR": f"127.0.0.1:{_free_port()}",
           "DESKHAND_SMTP_TLS_CERT": str(tmp_path / "cert.pem")}
    env.pop("DESKHAND_SMTP_TLS_KEY", None)
    done = subprocess.run([DESKHAND, "smtpd"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Set both DESKHAND_SMTP_TLS_CERT and DESKHAND_SMTP_TLS_KEY" in done.stderr


def _serve(env: dict[str, str], port: int, log: Path, *command: str) -> subprocess.Popen[bytes]:
    """Start serve (or a Python command that runs it) and wait until /healthz answers."""
    server = subprocess.Popen(list(command) or [DESKHAND, "serve"], env=env, stdout=log.open("wb"),
                              stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "serve did not answer within 60 s"
        time.sleep(0.3)


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _env(tmp_path: Path, database_url: str, port: int) -> dict[str, str]:
    # The embedded default: tasks in the database, even when the suite runs with tasks in Redis.
    inherited = {key: value for key, value in os.environ.items() if key != "DESKHAND_TASKS_URL"}
    return {**inherited, "DESKHAND_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url,
            "DESKHAND_HTTP_ADDR": f"127.0.0.1:{port}", "DESKHAND_SMTP_ADDR": f"127.0.0.1:{_free_port()}"}


def test_slow_clients_do_not_lock_out_others_and_are_dropped_after_the_header_timeout(
        tmp_path: Path, database_url: str) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    server = _serve(_env(tmp_path, database_url, port), port, log,
                    DESKHAND, "serve", "--header-timeout", "3", "--no-smtp", "--no-worker")
    slow: list[socket.socket] = []
    try:
        opened = time.monotonic()
        for _ in range(300):
            client = socket.create_connection(("127.0.0.1", port), timeout=5)
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: deskhand\r\nX-Slow: ")
            slow.append(client)
        # Each keeps sending its header, one byte at a time, as a slowloris does.
        for client in slow:
            client.sendall(b"a")
        timings = []
        for _ in range(10):
            began = time.monotonic()
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            timings.append(time.monotonic() - began)
        # Waitress kept ~100 connections: every request here timed out. The bound allows for a loaded CI.
        assert sorted(timings)[len(timings) // 2] < 0.5 and max(timings) < 2.5, timings

        dropped: set[int] = set()
        while len(dropped) < len(slow) and time.monotonic() - opened < 20:
            for index, client in enumerate(slow):
                if index in dropped:
                    continue
                try:
                    client.sendall(b"a")
                    client.setblocking(False)
                    if client.recv(1024) == b"":
                        dropped.add(index)
                except BlockingIOError:
                    pass
                except OSError:
                    dropped.add(index)
            time.sleep(0.5)
        elapsed = time.monotonic() - opened
        assert len(dropped) == len(slow), f"{len(slow) - len(dropped)} slow connections still open"
        assert 2.5 < elapsed < 20, elapsed  # one byte does not restart the 3 s header timeout
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        for client in slow:
            client.close()
        _stop(server)


FAILING_WORKER = """
import os
import sys

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "deskhand.settings"
django.setup()
from django.db.utils import OperationalError
from django_tasks_db.management.commands import db_worker

calls = []
original = db_worker.Worker.run


def run(self):
    calls.append(1)
    if len(calls) == 1:
        raise OperationalError("database is locked")
    return original(self)


db_worker.Worker.run = run
sys.argv = ["deskhand", "worker"]
from deskhand.__main__ import main

main()
"""


def test_the_worker_goes_on_when_a_part_fails_and_restarts_it(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url, _free_port())
    subprocess.run([DESKHAND, "migrate", "-v0"], env=env, check=True)
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "-c", FAILING_WORKER], env=env, stdout=log.open("wb"),
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while log.read_text().count("Starting worker") < 1 and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.2)
        output = log.read_text()
        assert "task-worker failed" in output and "database is locked" in output
        assert "Starting worker" in output, output  # the second run is the real worker
    finally:
        _stop(worker)
    assert worker.returncode == 0
    assert "Deskhand worker stopped." in log.read_text()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # a thread that ended meanwhile
            continue
    return found


def test_serve_starts_a_new_worker_when_its_worker_is_killed_and_mail_is_still_filed(
        tmp_path: Path, database_url: str) -> None:
    port = _free_port()
    env = {**_env(tmp_path, database_url, port), "DESKHAND_SUPPORT_ADDRESSES": "support@deskhand.test"}
    smtp_port = int(env["DESKHAND_SMTP_ADDR"].rpartition(":")[2])
    log = tmp_path / "serve.log"
    server = _serve(env, port, log)
    try:
        deadline = time.monotonic() + 20
        while not (children := _children(server.pid)):  # serve starts its worker beside the web server
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        [first] = children
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while not (children := _children(server.pid)) or children == [first]:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert "worker failed" in log.read_text()
        mail = EmailMessage()
        mail["From"] = "Zoë <zoe@acme.com>"
        mail["To"] = "support@deskhand.test"
        mail["Subject"] = "After the crash"
        mail.set_content("Still here?")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.send_message(mail)
        deadline = time.monotonic() + 20
        while True:
            shown = subprocess.run(
                [DESKHAND, "shell", "-c",
                 "from deskhand.mail.models import InboundEmail as I; print([i.status for i in I.objects.all()])"],
                env=env, capture_output=True, text=True, check=True)
            if shown.stdout.strip().splitlines()[-1] == "['processed']":
                break
            assert time.monotonic() < deadline, shown.stdout + log.read_text()
            time.sleep(0.3)
    finally:
        _stop(server)
    assert server.returncode == 0
    output = log.read_text()
    assert "Deskhand stopped." in output and "Deskhand worker stopped." in output
