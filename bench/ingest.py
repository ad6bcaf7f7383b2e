"""Benchmark: inbound mail → tickets (issue 6), by folder import and over SMTP.

    .venv/bin/python bench/ingest.py [--n 5000] [--seed 1] [--runs 3]
        [--only sqlite,postgresql,smtp] [--jobs N] [--batch N] [--senders 6] [--json FILE] [--keep]
        [--automations off|samples|compare]

The corpus comes from `../shared/bench/make_corpus.py` (`--n 5000 --seed 1`: 4 500 new mails, 500
replies, 500 attachments, 250 in legacy charsets), generated into /tmp and checked against the
sha256 that `../shared/bench/README.md` gives. The script reads the corpus itself with the stdlib
(`policy.default`) to know the expected outcome, independently of Deskhand's parser.

Modes (each `--runs` times, a fresh data directory and a fresh database per run, median reported):

- `sqlite`, `postgresql`: `deskhand migrate` and the ticket address `support@deskhand.test` (what
  `DESKHAND_SUPPORT_ADDRESSES` makes at `serve`; without it the support address would become a
  follower of every ticket) are set up untimed. Then `.venv/bin/deskhand mail import EMPTY` times
  the start-up on an empty folder, and `.venv/bin/deskhand mail import CORPUS` is timed as a
  subprocess: wall time from spawn to exit (start-up included), CPU (user + sys of the command and
  its parser process, from wait4) and peak RSS (the largest process of the tree). PostgreSQL: a
  database `bench_ingest_<run>` made with psql on `--postgres-url` (then a CHECKPOINT, so that
  no earlier run's WAL is written out during this one) and dropped afterwards.
- `smtp`: `deskhand serve` (HTTP 127.0.0.1:8711, SMTP 127.0.0.1:2711) on a fresh SQLite data
  directory. `--senders` smtplib connections (each reused for all its mails) send the corpus in
  its order, every mail to support@deskhand.test with the From address as MAIL FROM; the time of
  each 250 is kept with the inbound id the listener answers. A poller reads the database
  (read-only, every `--poll-ms`) for mails no longer `received`: from 250 to that moment is the
  latency "250 → ticket visible" (the worker commits a mail's ticket and its status together).
  `--rate R` paces the senders to R mails/s in all, to see the latency below saturation.
  `smtp-postgresql` does the same on PostgreSQL.

After every run the outcome is read from the database (plain SQL, not Deskhand's code): every mail
stored and none left `received`, `failed` or `ignored`; tickets; each reply a customer message on
the ticket of its thread's first mail; titles equal to the decoded subjects; customer names equal
to a decoded From name; the first line of each new ticket's message equal to that of the decoded
text; attachments with the corpus's names, sizes and sha256; no mojibake markers (Ã, Â, â€, U+FFFD,
an undecoded =?…?=) in titles, bodies or names that the decoded corpus does not have itself.

Traffic goes to 127.0.0.1 only. The machine's load average is recorded with every run.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DESKHAND = ROOT / ".venv" / "bin" / "deskhand"
GENERATOR = ROOT.parent / "shared" / "bench" / "make_corpus.py"
KNOWN_CORPORA = {(1000, 1): "2794b30bdc4bea74", (5000, 1): "4b72be9053406232"}  # ../shared/bench/README.md
SUPPORT = "support@deskhand.test"
HTTP_ADDR = ("127.0.0.1", 8711)
SMTP_ADDR = ("127.0.0.1", 2711)
MOJIBAKE = ("Ã", "Â", "â€", "\ufffd")
ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?")
SERVE_START_TIMEOUT = 120.0
PROCESS_TIMEOUT = 600.0
POLL_MARGIN = 100  # ids below the lowest waiting one that the SMTP poller reads again
SETUP_MAILBOX = ("from deskhand.core.actors import SYSTEM; from deskhand.mail.services import ensure_mailboxes; "
                 f"ensure_mailboxes([{SUPPORT!r}], actor=SYSTEM)")
# `--automations samples`: the fresh install's samples, all switched on (the sample SLA on every new
# ticket, the survey on done, the reopen on a customer reply), as issue 13's import target wants.
SETUP_SAMPLES = ("from deskhand.core.actors import SYSTEM; from deskhand.automations.samples import ensure_samples; "
                 "from deskhand.automations.models import Automation; ensure_samples(); "
                 "Automation.objects.update(enabled=True)")


# -- the corpus and what it must become --------------------------------------------------------


@dataclass
class Mail:
    file: str
    raw: bytes
    message_id: str
    parent: str  # In-Reply-To, "" for a new mail
    subject: str
    sender: str  # lower-cased address
    name: str
    first_line: str  # of the decoded text/plain body
    text: str
    attachments: list[tuple[str, int, str]]  # name, size, sha256
    cc: list[tuple[str, str]]  # (lower-cased address, display name) of the Cc header
    root: str = ""  # Message-ID of the thread's first mail


def corpus_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_corpus(n: int, seed: int, folder: Path | None) -> tuple[Path, str]:
    """The corpus folder (generated when missing) and its sha256, checked when the README knows it."""
    folder = folder or Path(f"/tmp/bench-ingest-corpus-{n}-{seed}")
    if not folder.is_dir() or len(list(folder.iterdir())) != n:
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([sys.executable, str(GENERATOR), "--out", str(folder), "--n", str(n), "--seed", str(seed)],
                       check=True, stdout=subprocess.DEVNULL)
    digest = corpus_hash(folder)
    expected = KNOWN_CORPORA.get((n, seed))
    if expected and not digest.startswith(expected):
        raise SystemExit(f"corpus {folder}: sha256 {digest[:16]}, the README says {expected}")
    return folder, digest


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return " ".join(line.split())
    return ""


def read_corpus(folder: Path) -> list[Mail]:
    """Every mail as the stdlib reads it (policy.default), in file-name order."""
    mails: list[Mail] = []
    for path in sorted(folder.iterdir()):
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=policy.default)
        sender = message["From"].addresses[0]
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        attachments = []
        for part in message.iter_attachments():
            data = part.get_payload(decode=True)
            attachments.append((part.get_filename(), len(data), hashlib.sha256(data).hexdigest()))
        mails.append(Mail(
            file=path.name, raw=raw, message_id=str(message["Message-ID"]).strip(),
            parent=str(message.get("In-Reply-To", "")).strip(), subject=str(message["Subject"]),
            sender=sender.addr_spec.lower(), name=sender.display_name, first_line=_first_line(text), text=text,
            attachments=sorted(attachments),
            cc=[(a.addr_spec.lower(), a.display_name) for a in (message["Cc"].addresses if message["Cc"] else ())],
        ))
    roots: dict[str, str] = {}
    for mail in mails:
        mail.root = roots.get(mail.parent, mail.parent) if mail.parent else mail.message_id
        roots[mail.message_id] = mail.root
    return mails


# -- reading the outcome -----------------------------------------------------------------------


def connect(database: str) -> Any:
    """A read-only DB-API connection: a SQLite file path or a postgres:// URL."""
    if database.startswith("postgres"):
        import psycopg

        return psycopg.connect(database, autocommit=True)
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30, check_same_thread=False)
    connection.execute("PRAGMA query_only = 1")
    return connection


def rows(connection: Any, sql: str) -> list[tuple[Any, ...]]:
    cursor = connection.cursor()
    cursor.execute(sql)
    result = list(cursor.fetchall())
    cursor.close()
    return result


def _mojibake(value: str, expected: str) -> bool:
    markers = [m for m in MOJIBAKE if m in value and m not in expected]
    return bool(markers) or bool(ENCODED_WORD.search(value) and not ENCODED_WORD.search(expected))


def check_outcome(database: str, mails: list[Mail]) -> dict[str, Any]:
    """What the database holds after a run, against the corpus."""
    connection = connect(database)
    try:
        inbound = {row[1]: row for row in rows(connection, "SELECT id, rfc_message_id, status, item_id, message_id, "
                                                          "reason FROM mail_inboundemail")}
        inbound_count = rows(connection, "SELECT count(*) FROM mail_inboundemail")[0][0]
        statuses = Counter(row[0] for row in rows(connection, "SELECT status FROM mail_inboundemail"))
        items = {row[0]: row for row in rows(connection, "SELECT id, kind, title, requester_id FROM work_item")}
        messages = {row[0]: row for row in rows(
            connection, "SELECT id, item_id, kind, author_customer_id, body, full_body FROM work_message")}
        customers = {row[0]: row for row in rows(connection, "SELECT id, email_key, name FROM customers_customer")}
        attachments: dict[int, list[tuple[str, int, str]]] = {}
        for message_id, name, size, sha in rows(connection, "SELECT message_id, name, size, sha256 FROM work_attachment"):
            attachments.setdefault(message_id, []).append((name, size, sha))
        audit = Counter(dict(rows(connection, "SELECT action, count(*) FROM audit_auditevent GROUP BY action")))
        followers = rows(connection, "SELECT count(*) FROM work_follower")[0][0]
        organizations = rows(connection, "SELECT count(*) FROM customers_organization")[0][0]
        failures = [row[0] for row in rows(connection, "SELECT reason FROM mail_inboundemail WHERE status = 'failed'")]
    finally:
        connection.close()
    names: dict[str, set[str]] = {}
    for mail in mails:
        for address, name in [(mail.sender, mail.name), *mail.cc]:
            names.setdefault(address, set()).add(name)
    problems: list[str] = []
    missing = [mail.file for mail in mails if mail.message_id not in inbound]
    first_message: dict[int, int] = {}
    for pk, item_id, *_ in messages.values():
        first_message[item_id] = min(pk, first_message.get(item_id, pk))
    threaded = not_threaded = own_ticket = title_ok = first_line_ok = attachments_ok = mojibake = 0
    expected_tickets = sum(1 for mail in mails if not mail.parent)
    expected_attachments = sum(1 for mail in mails if mail.attachments)
    for mail in mails:
        row = inbound.get(mail.message_id)
        if row is None:
            continue
        _, _, status, item_id, message_id, reason = row
        message = messages.get(message_id)
        item = items.get(item_id)
        if message is None or item is None:
            problems.append(f"{mail.file}: {status} without ticket or message ({reason[:80]})")
            continue
        author = customers.get(message[3])
        if mail.parent:
            root = inbound.get(mail.root)
            if root is not None and root[3] == item_id and message[2] == "customer" and author \
                    and author[1] == mail.sender:
                threaded += 1
            else:
                not_threaded += 1
                own_ticket += first_message.get(item_id) == message_id
        else:
            if item[2] == " ".join(mail.subject.split()):
                title_ok += 1
            elif len(problems) < 20:
                problems.append(f"{mail.file}: title {item[2]!r} != subject {mail.subject!r}")
            if _first_line(message[4]) == mail.first_line:
                first_line_ok += 1
            elif len(problems) < 20:
                problems.append(f"{mail.file}: body starts {_first_line(message[4])[:60]!r}, "
                                f"expected {mail.first_line[:60]!r}")
            if _mojibake(item[2], mail.subject):
                mojibake += 1
        if mail.attachments:
            if sorted(attachments.get(message_id, [])) == mail.attachments:
                attachments_ok += 1
            elif len(problems) < 20:
                problems.append(f"{mail.file}: attachments {attachments.get(message_id)} != {mail.attachments}")
        if _mojibake(message[4], mail.text) or _mojibake(message[5], mail.text):
            mojibake += 1
    bad_names = unnamed = 0
    for _, key, name in customers.values():
        if not name and any(names.get(key, ())):
            unnamed += 1
        elif key in names and name not in names[key]:
            bad_names += 1
            if len(problems) < 20:
                problems.append(f"customer {key}: name {name!r}, the mails say {sorted(names[key])}")
        if _mojibake(name, "".join(names.get(key, ()))):
            mojibake += 1
    tickets = sum(1 for item in items.values() if item[1] == "ticket")
    replies = sum(1 for mail in mails if mail.parent)
    outcome = {
        "mails": len(mails), "stored": inbound_count, "missing": len(missing), "statuses": dict(statuses),
        "tickets": tickets, "expected_tickets": expected_tickets,
        "replies": replies, "replies_threaded": threaded, "replies_not_threaded": not_threaded,
        "replies_made_ticket": own_ticket,
        "titles_ok": title_ok, "first_lines_ok": first_line_ok,
        "attachment_mails": expected_attachments, "attachments_ok": attachments_ok,
        "customer_names_wrong": bad_names, "customers_unnamed": unnamed, "mojibake": mojibake,
        "customers": len(customers), "organizations": organizations, "followers": followers,
        "messages": len(messages), "audit_rows": sum(audit.values()), "audit": dict(sorted(audit.items())),
        "failures": failures[:10], "problems": problems[:20],
    }
    # What the issue asks: nothing lost or left over, the tickets, the threads, the attachments and
    # no mojibake. "exact" also wants every title, first line and customer name as the corpus has it.
    outcome["ok"] = (
        not missing and inbound_count == len(mails) and statuses.get("processed", 0) == len(mails)
        and tickets == expected_tickets + own_ticket and threaded + not_threaded == replies
        and attachments_ok == expected_attachments and not mojibake
    )
    outcome["exact"] = (outcome["ok"] and not_threaded == 0 and title_ok == expected_tickets
                        and first_line_ok == expected_tickets and not bad_names)
    return outcome


# -- running Deskhand --------------------------------------------------------------------------


@dataclass
class Timed:
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_mb: float
    returncode: int
    output: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def _tree_hwm_mb(pid: int) -> float:
    """The largest VmHWM in the process tree of `pid` (the command and its parser processes)."""
    found = 0.0
    for member in [pid, *_children(pid)]:
        try:
            found = max(found, _proc_hwm_mb(member))
        except OSError:
            continue
    return found


def run_timed(command: list[str], env: dict[str, str]) -> Timed:
    """Spawn to exit; CPU of the process and the children it waited for (wait4), and peak RSS as the
    largest VmHWM seen in its tree. (wait4's ru_maxrss counts the pages the child shared with this
    process between fork and exec: with the 100 000-mail corpus in memory here, 364 MB.)"""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _tree_hwm_mb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.stdout.read().decode("utf-8", "replace")
    peak[0] = max(peak[0], _tree_hwm_mb(process.pid))  # the command has closed its output: about to exit
    done.set()
    sampler.join()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Timed(wall, usage.ru_utime, usage.ru_stime, peak[0], process.returncode, output.strip())


def run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def psql(base_url: str, sql: str) -> None:
    run(["psql", f"{base_url.rstrip('/')}/postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql], dict(os.environ))


def base_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DESKHAND_", "DATABASE_URL"))}
    env["DESKHAND_DATA_DIR"] = str(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@contextlib.contextmanager
def fresh_database(kind: str, run_number: int, postgres_url: str, keep: bool) -> Iterator[tuple[Path, str | None]]:
    """A fresh data directory (and for PostgreSQL a fresh database); yields (data dir, DATABASE_URL)."""
    data_dir = Path(f"/tmp/bench-ingest-{kind}-{run_number}")
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    url = None
    if "postgresql" in kind:
        name = f"bench_ingest_{run_number}"
        psql(postgres_url, f"DROP DATABASE IF EXISTS {name}")
        psql(postgres_url, f"CREATE DATABASE {name}")
        # Write out what earlier runs left in the WAL, so that no checkpoint of theirs lands in this one.
        psql(postgres_url, "CHECKPOINT")
        url = f"{postgres_url.rstrip('/')}/{name}"
    try:
        yield data_dir, url
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            if url:
                psql(postgres_url, f"DROP DATABASE IF EXISTS bench_ingest_{run_number}")


def database_of(data_dir: Path, url: str | None) -> str:
    return url or str(data_dir / "deskhand.sqlite3")


def database_settings(database: str) -> dict[str, Any]:
    connection = connect(database)
    try:
        if database.startswith("postgres"):
            names = ("server_version", "autovacuum", "synchronous_commit", "shared_buffers", "fsync")
            return {name: rows(connection, f"SHOW {name}")[0][0] for name in names}
        return {"sqlite": sqlite3.sqlite_version, "journal_mode": rows(connection, "PRAGMA journal_mode")[0][0],
                "synchronous": "NORMAL (init_command in deskhand/settings.py)",
                "transaction_mode": "IMMEDIATE"}
    finally:
        connection.close()


def import_run(kind: str, run_number: int, mails: list[Mail], corpus: Path, args: argparse.Namespace) -> dict[str, Any]:
    load = os.getloadavg()
    with fresh_database(kind, run_number, args.postgres_url, args.keep) as (data_dir, url):
        env = base_env(data_dir, url)
        run([str(DESKHAND), "migrate", "-v0"], env)
        run([str(DESKHAND), "shell", "-c", SETUP_MAILBOX], env)
        if args.automations == "samples":
            run([str(DESKHAND), "shell", "-c", SETUP_SAMPLES], env)
        options = [*(["--jobs", str(args.jobs)] if args.jobs is not None else []),
                   *(["--batch", str(args.batch)] if args.batch is not None else [])]
        empty = data_dir / "empty"
        empty.mkdir()
        startup = run_timed([str(DESKHAND), "mail", "import", str(empty), *options], env)
        timed = run_timed([str(DESKHAND), "mail", "import", str(corpus), *options], env)
        if timed.returncode:
            raise SystemExit(f"mail import exited with {timed.returncode}:\n{timed.output[-3000:]}")
        database = database_of(data_dir, url)
        outcome = check_outcome(database, mails)
        result = {
            "kind": kind, "run": run_number, "load_before": load, "mails": len(mails),
            "wall_s": timed.wall_s, "msgs_per_s": len(mails) / timed.wall_s,
            "startup_empty_s": startup.wall_s, "startup_cpu_s": startup.cpu_s,
            "msgs_per_s_without_startup": len(mails) / max(1e-9, timed.wall_s - startup.wall_s),
            "cpu_user_s": timed.user_s, "cpu_sys_s": timed.sys_s, "cpu_s": timed.cpu_s,
            "cpu_ms_per_mail": 1000 * timed.cpu_s / len(mails), "max_rss_mb": timed.max_rss_mb,
            "command_says": timed.output.splitlines()[-1] if timed.output else "",
            "database": database_settings(database), "outcome": outcome,
        }
    return result


# -- SMTP --------------------------------------------------------------------------------------


def _wait_for_serve(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVE_START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise SystemExit(f"deskhand serve exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://{HTTP_ADDR[0]}:{HTTP_ADDR[1]}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    with smtplib.SMTP(*SMTP_ADDR, timeout=5) as client:
                        client.noop()
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"deskhand serve did not answer in {SERVE_START_TIMEOUT:.0f} s; see {log}")
        time.sleep(0.2)


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _tree_cpu(pid: int) -> float:
    """CPU seconds of `serve` and of the worker process it started."""
    return _proc_cpu(pid) + sum(_proc_cpu(child) for child in _children(pid))


def _proc_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Sent:
    accepted: dict[str, float] = field(default_factory=dict)  # Message-ID -> time of the 250 (perf_counter)
    wall: dict[str, float] = field(default_factory=dict)  # Message-ID -> time.time() of the 250
    refused: list[str] = field(default_factory=list)


def send_all(mails: list[Mail], senders: int, sent: Sent, rate: float = 0.0) -> None:
    """`senders` connections, each reused, take the next mail of the corpus in turn; with `rate`,
    mail number i is not sent before i / rate seconds (an offered load instead of a flood)."""
    lock = threading.Lock()
    queue = iter(enumerate(mails))
    answer = re.compile(rb"accepted as (\S+)")
    start = time.perf_counter()

    def sender() -> None:
        with smtplib.SMTP(*SMTP_ADDR, timeout=60) as client:
            client.ehlo("bench.localhost")
            while True:
                with lock:
                    number, mail = next(queue, (0, None))
                if mail is None:
                    return
                if rate:
                    time.sleep(max(0.0, start + number / rate - time.perf_counter()))
                client.mail(mail.sender)
                client.rcpt(SUPPORT)
                code, reply = client.data(mail.raw)
                now, wall = time.perf_counter(), time.time()
                found = answer.search(reply)
                with lock:
                    if code == 250 and found:
                        sent.accepted[mail.message_id] = now
                        sent.wall[mail.message_id] = wall
                    else:
                        sent.refused.append(f"{mail.file}: {code} {reply[:100]!r}")

    threads = [threading.Thread(target=sender, name=f"sender-{i}") for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def poll_visible(database: str, expected: int, seen: dict[str, float], stop: threading.Event, interval: float) -> None:
    """Note when each mail stops being `received` (its ticket or reply is committed with it). Each
    poll reads only from the lowest id not seen yet: the worker goes mostly in id order."""
    connection = connect(database)
    low = 0
    try:
        while not stop.is_set():
            # First the last id stored, then the lowest id still waiting (or, if none, the one after
            # that last): everything below it is done now, so the read that follows returns it, and
            # the next poll can start there. In this order, a mail stored between the two reads is
            # either waiting or above `last`. (The reads use the (status, id) index and the primary
            # key: a backlog of received mail is not read every time.)
            last = rows(connection, "SELECT max(id) FROM mail_inboundemail")[0][0]
            waiting = rows(connection, f"SELECT min(id) FROM mail_inboundemail WHERE status = 'received' "
                                       f"AND id >= {low}")[0][0]
            now = time.perf_counter()
            for (rfc_id,) in rows(connection, "SELECT rfc_message_id FROM mail_inboundemail WHERE status IN "
                                              f"('processed', 'ignored', 'failed') AND id >= {low}"):
                seen.setdefault(rfc_id, now)
            if len(seen) >= expected:
                return
            if last is not None:
                # Less a margin: on PostgreSQL a lower id can still be committing when a higher one is read.
                low = max(low, (waiting if waiting is not None else last + 1) - POLL_MARGIN)
            stop.wait(interval)
    finally:
        connection.close()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else float("nan")


def smtp_run(kind: str, run_number: int, mails: list[Mail], args: argparse.Namespace) -> dict[str, Any]:
    load = os.getloadavg()
    with fresh_database(kind, run_number, args.postgres_url, args.keep) as (data_dir, url):
        env = base_env(data_dir, url)
        env.update({"DESKHAND_HTTP_ADDR": f"{HTTP_ADDR[0]}:{HTTP_ADDR[1]}",
                    "DESKHAND_SMTP_ADDR": f"{SMTP_ADDR[0]}:{SMTP_ADDR[1]}",
                    "DESKHAND_SUPPORT_ADDRESSES": SUPPORT})
        run([str(DESKHAND), "migrate", "-v0"], env)
        database = database_of(data_dir, url)
        log = data_dir / "serve.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen([str(DESKHAND), "serve"], env=env, cwd=ROOT, stdout=log_file,
                                       stderr=subprocess.STDOUT)
            try:
                _wait_for_serve(process, log)
                cpu_before = _tree_cpu(process.pid)
                sent, seen, stop = Sent(), {}, threading.Event()
                poller = threading.Thread(target=poll_visible, args=(database, len(mails), seen, stop,
                                                                     args.poll_ms / 1000), daemon=True)
                poller.start()
                started = time.perf_counter()
                client_cpu = time.process_time()
                send_all(mails, args.senders, sent, args.rate)
                sent_at = time.perf_counter()
                poller.join(timeout=PROCESS_TIMEOUT)
                stop.set()
                poller.join()
                done_at = max(seen.values()) if seen else time.perf_counter()
                client_cpu = time.process_time() - client_cpu
                cpu_s = _tree_cpu(process.pid) - cpu_before
                hwm = _proc_hwm_mb(process.pid)
                worker_hwm = max((_proc_hwm_mb(child) for child in _children(process.pid)), default=0.0)
            finally:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        processed_at = {}
        connection = connect(database)
        try:
            for pk, value in rows(connection, "SELECT rfc_message_id, processed_at FROM mail_inboundemail "
                                              "WHERE processed_at IS NOT NULL"):
                processed_at[pk] = _parse_sqlite_time(value) if isinstance(value, str) else value.timestamp()
        finally:
            connection.close()
        latencies = [seen[pk] - t for pk, t in sent.accepted.items() if pk in seen]
        db_latencies = [processed_at[pk] - sent.wall[pk] for pk in sent.wall if pk in processed_at]
        outcome = check_outcome(database, mails)
        result = {
            "kind": kind, "run": run_number, "load_before": load, "mails": len(mails), "senders": args.senders,
            "offered_rate": args.rate or None,
            "poll_ms": args.poll_ms, "accepted": len(sent.accepted), "refused": sent.refused[:10],
            "send_s": sent_at - started, "accepted_per_s": len(sent.accepted) / (sent_at - started),
            "visible": len(seen), "all_visible_s": done_at - started,
            "processed_per_s": len(seen) / (done_at - started),
            "latency_ms": {name: 1000 * _percentile(latencies, share)
                           for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))},
            "latency_processed_at_ms": {name: 1000 * _percentile(db_latencies, share)
                                        for name, share in (("p50", 0.5), ("p95", 0.95), ("max", 1.0))},
            "bench_client_cpu_s": client_cpu, "serve_cpu_s": cpu_s, "serve_cpu_ms_per_mail": 1000 * cpu_s / len(mails), "serve_peak_rss_mb": hwm, "worker_peak_rss_mb": worker_hwm,
            "database": database_settings(database), "outcome": outcome,
        }
    return result


def _parse_sqlite_time(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace(" ", "T")).timestamp()


# -- report ------------------------------------------------------------------------------------


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [key for key, value in results[0].items() if isinstance(value, int | float) and key not in ("run", "mails")]
    summary = {key: statistics.median(result[key] for result in results) for key in keys}
    if "latency_ms" in results[0]:
        summary["latency_ms"] = {name: statistics.median(r["latency_ms"][name] for r in results)
                                 for name in results[0]["latency_ms"]}
    summary["all_ok"] = all(result["outcome"]["ok"] for result in results)
    return summary


def describe(result: dict[str, Any]) -> str:
    outcome = result["outcome"]
    check = (f"tickets {outcome['tickets']}/{outcome['expected_tickets']}, replies threaded "
             f"{outcome['replies_threaded']}/{outcome['replies']}, attachments {outcome['attachments_ok']}/"
             f"{outcome['attachment_mails']}, titles {outcome['titles_ok']}, mojibake {outcome['mojibake']}, "
             f"statuses {outcome['statuses']} -> {'OK' if outcome['ok'] else 'NOT OK'}"
             f"{'' if outcome['exact'] else ' (not exact: titles ' + str(outcome['titles_ok']) + ', unnamed ' + str(outcome['customers_unnamed']) + ')'}")
    if "latency_ms" in result:
        latency = result["latency_ms"]
        return (f"{result['kind']} run {result['run']}: accepted {result['accepted_per_s']:.0f}/s, processed "
                f"{result['processed_per_s']:.0f}/s, 250→visible p50 {latency['p50']:.0f} ms p95 "
                f"{latency['p95']:.0f} ms max {latency['max']:.0f} ms, serve+worker CPU {result['serve_cpu_s']:.1f} s, "
                f"peak RSS {result['serve_peak_rss_mb']:.0f} MB + worker {result.get('worker_peak_rss_mb', 0):.0f} MB (load {result['load_before'][0]:.1f}); {check}")
    return (f"{result['kind']} run {result['run']}: {result['wall_s']:.2f} s = {result['msgs_per_s']:.0f} msg/s "
            f"(empty start-up {result['startup_empty_s']:.2f} s; without it {result['msgs_per_s_without_startup']:.0f}"
            f" msg/s), CPU {result['cpu_s']:.1f} s, peak RSS {result['max_rss_mb']:.0f} MB "
            f"(load {result['load_before'][0]:.1f}); {check}")


def compare_automations(kind: str, mails: list[Mail], corpus: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Pairs of imports, automations off and the samples on, back to back (off first in odd pairs,
    samples first in even ones, so that neither always runs second): the ratio of each pair's
    wall times is steadier than two medians taken minutes apart on a shared machine."""
    ratios, pairs = [], []
    for number in range(1, args.runs + 1):
        pair = {}
        for setting in ("off", "samples") if number % 2 else ("samples", "off"):
            result = import_run(kind, number, mails, corpus, argparse.Namespace(**{**vars(args), "automations": setting}))
            print(f"{setting:8s} " + describe(result), flush=True)
            pair[setting] = result
        ratio = pair["samples"]["wall_s"] / pair["off"]["wall_s"]
        print(f"pair {number}: samples / off wall time {ratio:.3f}", flush=True)
        ratios.append(ratio)
        pairs.append(pair)
    print(f"{kind} samples / off: median {statistics.median(ratios):.3f} over {len(ratios)} pairs "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})", flush=True)
    return {"median_ratio": statistics.median(ratios), "ratios": ratios, "pairs": pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000, help="corpus size (make_corpus.py --n)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, help="corpus folder (default /tmp/bench-ingest-corpus-N-SEED)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="sqlite,postgresql,smtp",
                        help="comma-separated: sqlite, postgresql, smtp, smtp-postgresql")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--automations", choices=("off", "samples", "compare"), default="off",
                        help="samples: the fresh install's sample automations, switched on, for the import; "
                             "compare: each run imports twice, off then samples, and the median ratio is reported")
    parser.add_argument("--jobs", type=int, help="mail import --jobs (default: the command's)")
    parser.add_argument("--batch", type=int, help="mail import --batch (default: the command's)")
    parser.add_argument("--senders", type=int, default=6, help="SMTP client connections")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="SMTP: send at most this many mails per second in all (default: as fast as accepted)")
    parser.add_argument("--poll-ms", type=float, default=20.0, help="how often the SMTP poller reads the database")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--keep", action="store_true", help="keep the data directories and databases")
    args = parser.parse_args()

    corpus, digest = ensure_corpus(args.n, args.seed, args.corpus)
    mails = read_corpus(corpus)
    print(f"corpus {corpus}: {len(mails)} mails, sha256 {digest[:16]}, "
          f"{sum(1 for m in mails if not m.parent)} new, {sum(1 for m in mails if m.parent)} replies, "
          f"{sum(1 for m in mails if m.attachments)} with attachments", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    report: dict[str, Any] = {
        "corpus": {"n": args.n, "seed": args.seed, "sha256": digest, "folder": str(corpus)},
        "commit": commit.stdout.strip(), "python": platform.python_version(), "platform": platform.platform(),
        "cpus": os.cpu_count(), "options": {"jobs": args.jobs, "batch": args.batch, "senders": args.senders},
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "modes": {},
    }
    for kind in [k.strip() for k in args.only.split(",") if k.strip()]:
        if args.automations == "compare" and kind in ("sqlite", "postgresql"):
            report["modes"][kind] = compare_automations(kind, mails, corpus, args)
            continue
        results = []
        for number in range(1, args.runs + 1):
            if kind in ("sqlite", "postgresql"):
                result = import_run(kind, number, mails, corpus, args)
            elif kind in ("smtp", "smtp-postgresql"):
                result = smtp_run(kind, number, mails, args)
            else:
                raise SystemExit(f"unknown mode {kind}")
            print(describe(result), flush=True)
            for problem in result["outcome"]["problems"][:5]:
                print(f"    {problem}")
            results.append(result)
        summary = summarize(results)
        report["modes"][kind] = {"median": summary, "runs": results}
        print(f"{kind} median: " + ", ".join(f"{key} {value:.2f}" for key, value in summary.items()
                                             if isinstance(value, float)), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
