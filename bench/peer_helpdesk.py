"""Benchmark: Deskhand and django-helpdesk side by side on the same mail corpus (issue 12, part 6).

    .venv/bin/python bench/peer_helpdesk.py [--n 5000] [--seed 1] [--runs 3]
        [--only peer-stock,peer-wal,deskhand] [--json FILE] [--keep]

What it compares: `deskhand mail import DIR` against django-helpdesk's `manage.py get_email` reading
the same folder of .eml files, each timed as a whole process from spawn to exit (start-up included),
each on a fresh database, every configuration `--runs` times, alternating (round r runs the
configurations in an order rotated by r, so that none always goes first after the untimed set-up).

The peer. django-helpdesk (`--peer-version`, default 2.6.1) is installed from PyPI with pip into its
own virtual environment, `bench/.peer/venv` (ignored by git), with the Django version of Deskhand's
own venv, so that both run the same Django. Its project is generated there too, by `django-admin
startproject` (the stock settings: SQLite, `journal_mode` DELETE and `synchronous` FULL, autocommit),
with only these lines appended:

- `INSTALLED_APPS` gets `django.contrib.sites`, `django.contrib.humanize`, `rest_framework` and
  `helpdesk`, and `SITE_ID = 1` (what helpdesk's install guide asks); its URLs are mounted.
- `HELPDESK_TEAMS_MODE_ENABLED = False`: the default (True) needs `pinax-teams`, which is not one of
  the package's dependencies, and the teams have nothing to do with mail.
- `DEBUG = False` (startproject's True makes Django keep every query in memory).
- `EMAIL_BACKEND` is Django's dummy backend. get_email composes an acknowledgement for every new
  ticket (templates from its database) and "sends" it with `fail_silently`; the stock SMTP backend
  would try localhost:25. The message is still built; it just goes nowhere. (`deskhand mail import`
  writes no acknowledgement at all: the peer does a little more work per new ticket here.)
- The database file, `MEDIA_ROOT` (where attachments go) and the WAL switch come from the environment
  (`PEER_DATA_DIR`, `PEER_SQLITE_WAL`), so one project serves every run.

Its quirks, handled here:

- get_email reads queues, not folders: a `Queue` row with `email_box_type='local'`,
  `email_box_local_dir` = the run's mailbox, `allow_email_submission=True` and
  `email_address='support@deskhand.test'` (so that the To address is not added as a CC of every
  ticket). No default owner is needed.
- `email_box_interval` defaults to 5 minutes and get_email skips a queue checked less than that ago,
  so the start-up measurement on an empty folder would make the real run do nothing: it is set to 0.
- get_email **deletes** each file it made a ticket or follow-up from, so every run reads its own copy
  of the corpus (copied untimed); what is left in that folder afterwards was not processed.
- It reads the folder in `os.listdir` order (hash order on ext4), not in arrival order. A reply whose
  parent comes later in that order cannot thread (it threads on In-Reply-To only, or on a
  `[queue-id]` tag in the subject): it becomes a ticket of its own. The script records how many
  replies come after their parent in the listing the peer saw.
- Attachments are filtered by extension (`HELPDESK_VALID_EXTENSIONS`: .txt .asc .pdf .doc .docx .odt
  .jpg .png .eml); a refused one (the corpus's .csv) is logged ("Unsupported file extension") and
  dropped while the follow-up is kept. A text/plain attachment (the corpus's details.txt and
  error.log) next to the text/plain body of a multipart/mixed mail is taken for a second body part
  and silently not attached. Kept files are renamed `part-N_<name>`. The HTML part of
  multipart/alternative mail is stored as an extra attachment, `email_html_body.txt`; the checks
  leave those out and count them separately.
- Nothing is marked failed: a mail that raises stops the whole queue ("Queue processing failed",
  exit code 0), and the rest stays in the folder. So "failed" for the peer is: files left in the
  folder, plus corpus mails without a follow-up.

Configurations (`--only`):

- `peer-stock`: the generated settings as they are.
- `peer-wal`: the same with `OPTIONS = {"init_command": "PRAGMA journal_mode=WAL; PRAGMA
  synchronous=NORMAL"}`, the SQLite settings Deskhand itself ships with (and those of the reference
  figure in ../shared/bench/README.md); the peer's best configuration found.
- `peer-wal-full`: WAL with SQLite's default `synchronous` (FULL), to show what NORMAL is worth.
- `deskhand`: `.venv/bin/deskhand mail import DIR` with `DESKHAND_SUPPORT_ADDRESSES=support@deskhand.test`
  and a fresh `DESKHAND_DATA_DIR`; `deskhand migrate` and the ticket address (`ensure_mailboxes`, as
  bench/ingest.py does: `mail import` does not act on DESKHAND_SUPPORT_ADDRESSES itself) are set up
  untimed. Deskhand's settings: WAL, synchronous NORMAL, BEGIN IMMEDIATE, a commit per batch of 200.

For both, the database is migrated untimed (the peer's: once into a template file that each run
copies, because its migrations take about 12 s), and the same command is also timed on an empty
folder first: that is the start-up, reported beside the figure that includes it.

The corpus is generated once per invocation with `../shared/bench/make_corpus.py --out DIR --n N
--seed S --manifest FILE` into a temporary folder, its sha256 checked against the README's, and read
with the stdlib (bench/ingest.py's `read_corpus`) for the expected outcome. The manifest's counts
(expected tickets and replies) are checked against that reading.

Outcome checks after every run. Deskhand: bench/ingest.py's `check_outcome`, which reads the
database with plain SQL. The peer (its SQLite database read-only, and its files on disk):

- tickets (`helpdesk_ticket`); each corpus mail's follow-up (`helpdesk_followup.message_id`);
- replies threaded: the reply's follow-up is on the ticket of its thread's first mail; a reply that
  is the first follow-up of its ticket made a ticket of its own;
- attachments: for each corpus mail with one, the follow-up's `helpdesk_followupattachment` rows
  (less `email_html_body.txt`, with the `part-N_` prefix taken off the name) equal the corpus's
  names, sizes and the sha256 of the file under `MEDIA_ROOT`; kept and lost are also counted per
  file extension;
- titles equal to the decoded subject, first lines of the description, and mojibake (Ã, Â, â€,
  U+FFFD or an undecoded =?…?= that the decoded corpus does not have) in titles, descriptions and
  follow-up comments;
- failed: left in the folder, without a follow-up, and the exit code.

Both are held to the issue's outcome: 4 500 tickets, 500/500 replies threaded, 500/500 attachments
byte-identical, 0 mojibake, 0 failed (`target`).

Bounded: each timed process is killed (its process group) after `--timeout` seconds. Nothing listens
on or talks to the network except pip, which installs from the configured index once. Temporary
folders are removed at the end unless `--keep`. The machine's load average is recorded before and
after every run.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

# bench/ingest.py, importable because this script's directory is first on sys.path.
from ingest import DESKHAND, GENERATOR, KNOWN_CORPORA, SETUP_MAILBOX, SUPPORT, Mail, check_outcome, read_corpus

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = ROOT / "bench" / ".peer"
PEER_VENV = PEER_DIR / "venv"
PEER_PROJECT = PEER_DIR / "project"
PEER_PACKAGE = "django-helpdesk"
CONFIGURATIONS = ("peer-stock", "peer-wal", "peer-wal-full", "deskhand")
DEFAULT_ONLY = "peer-stock,peer-wal,deskhand"
SQLITE_PRAGMAS = {
    "peer-stock": "",
    "peer-wal": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    "peer-wal-full": "PRAGMA journal_mode=WAL",
}
HTML_BODY_ATTACHMENT = "email_html_body.txt"
PART_PREFIX = re.compile(r"^part-\d+_")
MOJIBAKE = ("Ã", "Â", "â€", "\ufffd")
ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?")
SETUP_TIMEOUT = 600.0

SETTINGS_TAIL = '''

# --- Appended by Deskhand's bench/peer_helpdesk.py: what django-helpdesk needs, and the bench's paths.
import os  # noqa: E402

PEER_DATA = Path(os.environ["PEER_DATA_DIR"])
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS += ["django.contrib.sites", "django.contrib.humanize", "rest_framework", "helpdesk"]
SITE_ID = 1
DATABASES["default"]["NAME"] = PEER_DATA / "db.sqlite3"
if os.environ.get("PEER_SQLITE_INIT"):
    # Django's SQLite backend runs each ';'-separated statement on every new connection.
    DATABASES["default"]["OPTIONS"] = {"init_command": os.environ["PEER_SQLITE_INIT"]}
MEDIA_ROOT = PEER_DATA / "media"
MEDIA_URL = "/media/"
HELPDESK_TEAMS_MODE_ENABLED = False  # True needs pinax-teams, which the package does not install
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
'''

URLS = '''from django.urls import include, path

urlpatterns = [path("helpdesk/", include("helpdesk.urls"))]
'''

SETUP_QUEUE = (
    "from helpdesk.models import Queue; "
    "Queue.objects.create(title='Support', slug='support', email_address={support!r}, "
    "email_box_type='local', email_box_local_dir='/nonexistent', email_box_interval=0, "
    "allow_email_submission=True)"
)


# -- the peer's environment --------------------------------------------------------------------


def _run(command: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT,
         timeout: float = SETUP_TIMEOUT) -> str:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def django_version() -> str:
    """The Django that Deskhand runs (this script runs in Deskhand's venv)."""
    try:
        return metadata.version("django")
    except metadata.PackageNotFoundError:
        return ""


def ensure_peer(version: str) -> dict[str, str]:
    """bench/.peer/venv with django-helpdesk==version and Deskhand's Django, and the generated
    project; reinstalled when the recorded versions differ. Returns the installed versions."""
    wanted = {"django-helpdesk": version, "django": django_version()}
    marker = PEER_DIR / "installed.json"
    python = PEER_VENV / "bin" / "python"
    installed = json.loads(marker.read_text()) if marker.exists() else {}
    if not python.exists() or installed.get("wanted") != wanted:
        print(f"installing {PEER_PACKAGE}=={version} into {PEER_VENV} …", flush=True)
        shutil.rmtree(PEER_VENV, ignore_errors=True)
        PEER_DIR.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "venv", str(PEER_VENV)])
        django = f"Django=={wanted['django']}" if wanted["django"] else "Django>=5.2,<5.3"
        _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              f"{PEER_PACKAGE}=={version}", django], timeout=1200)
        freeze = _run([str(python), "-m", "pip", "freeze", "--disable-pip-version-check"])
        installed = {"wanted": wanted, "freeze": freeze.split()}
        marker.write_text(json.dumps(installed, indent=1) + "\n")
    # The project is cheap to make: make it anew each time, so that it always matches this script.
    shutil.rmtree(PEER_PROJECT, ignore_errors=True)
    PEER_PROJECT.mkdir(parents=True)
    _run([str(PEER_VENV / "bin" / "django-admin"), "startproject", "peer", str(PEER_PROJECT)])
    settings = PEER_PROJECT / "peer" / "settings.py"
    settings.write_text(settings.read_text() + SETTINGS_TAIL)
    (PEER_PROJECT / "peer" / "urls.py").write_text(URLS)
    return {line.split("==")[0].lower(): line.split("==")[1] for line in installed["freeze"] if "==" in line}


def base_env() -> dict[str, str]:
    """The environment of every benchmarked process, less what would steer it elsewhere. Without
    PYTHONDONTWRITEBYTECODE (set on this machine), so that both keep compiled bytecode: pip compiles
    the peer's at install, uv does not compile Deskhand's, and the untimed empty run writes it."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PEER_", "DESKHAND_", "DATABASE_URL", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"))}


def peer_env(data_dir: Path, configuration: str) -> dict[str, str]:
    env = base_env()
    env["PEER_DATA_DIR"] = str(data_dir)
    env["PATH"] = f"{PEER_VENV / 'bin'}:{env.get('PATH', '')}"
    if SQLITE_PRAGMAS.get(configuration):
        env["PEER_SQLITE_INIT"] = SQLITE_PRAGMAS[configuration]
    return env


def peer_manage(*arguments: str) -> list[str]:
    return [str(PEER_VENV / "bin" / "python"), str(PEER_PROJECT / "manage.py"), *arguments]


def make_peer_template(folder: Path) -> Path:
    """A migrated peer database with its mail queue: each run starts from a copy of this file."""
    folder.mkdir(parents=True)
    env = peer_env(folder, "peer-stock")
    _run(peer_manage("migrate", "--no-input", "-v0"), env=env, cwd=PEER_PROJECT)
    _run(peer_manage("shell", "-c", SETUP_QUEUE.format(support=SUPPORT)), env=env, cwd=PEER_PROJECT)
    return folder / "db.sqlite3"


# -- timing a whole process --------------------------------------------------------------------


@dataclass
class Timed:
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_mb: float
    returncode: int
    timed_out: bool
    output: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def run_timed(command: list[str], env: dict[str, str], cwd: Path, log: Path, timeout: float) -> Timed:
    """Spawn to exit; CPU and peak RSS of the process and the children it waited for (wait4). The
    process group is killed after `timeout` seconds."""
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Timed(wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 1024, process.returncode,
                 expired.is_set(), log.read_text("utf-8", "replace"))


# -- the corpus --------------------------------------------------------------------------------


def make_corpus(folder: Path, n: int, seed: int) -> tuple[str, dict[str, Any]]:
    """Generate the corpus into `folder` once; its sha256 (checked when the README knows it) and manifest."""
    manifest = folder.parent / "manifest.json"
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(folder), "--n", str(n), "--seed", str(seed),
                    "--manifest", str(manifest)], check=True, stdout=subprocess.DEVNULL, timeout=SETUP_TIMEOUT)
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.read_bytes())
    expected = KNOWN_CORPORA.get((n, seed))
    if expected and not digest.hexdigest().startswith(expected):
        raise SystemExit(f"corpus {folder}: sha256 {digest.hexdigest()[:16]}, the README says {expected}")
    return digest.hexdigest(), json.loads(manifest.read_text())


def copy_mailbox(corpus: Path, mailbox: Path) -> None:
    mailbox.mkdir()
    for path in sorted(corpus.iterdir()):
        shutil.copyfile(path, mailbox / path.name)


# -- the peer's outcome ------------------------------------------------------------------------


def _mojibake(value: str, expected: str) -> bool:
    markers = [m for m in MOJIBAKE if m in value and m not in expected]
    return bool(markers) or bool(ENCODED_WORD.search(value) and not ENCODED_WORD.search(expected))


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return " ".join(line.split())
    return ""


def _extension(name: str) -> str:
    return os.path.splitext(name)[1].lower() or "(none)"


def check_peer(data_dir: Path, mailbox: Path, listing: list[str], mails: list[Mail]) -> dict[str, Any]:
    """What the peer's database and media folder hold after a run, against the corpus."""
    connection = sqlite3.connect(f"file:{data_dir / 'db.sqlite3'}?mode=ro", uri=True, timeout=30)
    try:
        tickets = {row[0]: row for row in connection.execute(
            "SELECT id, title, description, submitter_email, merged_to_id FROM helpdesk_ticket")}
        followups: dict[str, tuple[Any, ...]] = {}
        first_followup: dict[int, int] = {}
        followup_count = 0
        for row in connection.execute("SELECT id, ticket_id, message_id, comment, email_recipients "
                                      "FROM helpdesk_followup ORDER BY id"):
            followup_count += 1
            followups.setdefault(row[2] or "", row)
            first_followup.setdefault(row[1], row[0])
        attachments: dict[int, list[tuple[str, int, str]]] = {}
        html_bodies = 0
        for followup_id, file, filename, size in connection.execute(
                "SELECT followup_id, file, filename, size FROM helpdesk_followupattachment"):
            if filename == HTML_BODY_ATTACHMENT:
                html_bodies += 1
                continue
            path = data_dir / "media" / file
            data = path.read_bytes() if path.is_file() else b""
            attachments.setdefault(followup_id, []).append(
                (PART_PREFIX.sub("", filename), size, hashlib.sha256(data).hexdigest()))
        ticket_cc = connection.execute("SELECT count(*) FROM helpdesk_ticketcc").fetchone()[0]
        acknowledged = connection.execute("SELECT count(*) FROM helpdesk_followup WHERE email_recipients "
                                          "IS NOT NULL AND email_recipients != '[]'").fetchone()[0]
        journal_mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        connection.close()
    position = {name: index for index, name in enumerate(listing)}
    by_id = {mail.message_id: mail for mail in mails}
    left = sorted(path.name for path in mailbox.iterdir()) if mailbox.is_dir() else []
    problems: list[str] = []
    missing = threaded = not_threaded = own_ticket = parent_listed_first = 0
    title_ok = first_line_ok = attachments_ok = mojibake = 0
    kept: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    for mail in mails:
        followup = followups.get(mail.message_id)
        if followup is None:
            missing += 1
            if len(problems) < 20:
                problems.append(f"{mail.file}: no follow-up")
            continue
        followup_id, ticket_id, _, comment, _ = followup
        ticket = tickets[ticket_id]
        if mail.parent:
            parent = by_id.get(mail.parent)
            if parent is not None and position.get(parent.file, -1) < position.get(mail.file, -1):
                parent_listed_first += 1
            root = followups.get(mail.root)
            if root is not None and root[1] == ticket_id:
                threaded += 1
            else:
                not_threaded += 1
                own_ticket += first_followup.get(ticket_id) == followup_id
        else:
            if ticket[1] == " ".join(mail.subject.split()):
                title_ok += 1
            elif len(problems) < 20:
                problems.append(f"{mail.file}: title {ticket[1]!r} != subject {mail.subject!r}")
            first_line_ok += _first_line(ticket[2] or "") == mail.first_line
            mojibake += _mojibake(ticket[1], mail.subject) + _mojibake(ticket[2] or "", mail.text)
        mojibake += _mojibake(comment or "", mail.text)
        if mail.attachments:
            stored = sorted(attachments.get(followup_id, []))
            if stored == mail.attachments:
                attachments_ok += 1
            elif len(problems) < 20:
                problems.append(f"{mail.file}: attachments {stored} != {mail.attachments}")
            names = {name for name, _, _ in stored}
            for name, _, _ in mail.attachments:
                (kept if name in names else lost)[_extension(name)] += 1
    replies = sum(1 for mail in mails if mail.parent)
    expected_tickets = sum(1 for mail in mails if not mail.parent)
    expected_attachments = sum(1 for mail in mails if mail.attachments)
    outcome: dict[str, Any] = {
        "mails": len(mails), "followups": followup_count, "missing": missing, "left_in_mailbox": len(left),
        "tickets": len(tickets), "expected_tickets": expected_tickets,
        "replies": replies, "replies_threaded": threaded, "replies_not_threaded": not_threaded,
        "replies_made_ticket": own_ticket, "replies_listed_after_parent": parent_listed_first,
        "attachment_mails": expected_attachments, "attachments_ok": attachments_ok,
        "attachments_kept_by_extension": dict(sorted(kept.items())),
        "attachments_lost_by_extension": dict(sorted(lost.items())),
        "html_body_attachments": html_bodies, "titles_ok": title_ok, "first_lines_ok": first_line_ok,
        "mojibake": mojibake, "ticket_cc": ticket_cc, "acknowledgements_composed": acknowledged,
        "journal_mode": journal_mode, "left_files": left[:10], "problems": problems[:20],
    }
    outcome["failed"] = len(left) + missing
    return outcome


# -- runs --------------------------------------------------------------------------------------


def _target(outcome: dict[str, Any], failed: int) -> bool:
    """The issue's outcome: every ticket, every reply threaded, every attachment, no mojibake, nothing failed."""
    return (outcome["tickets"] == outcome["expected_tickets"] and outcome["replies_threaded"] == outcome["replies"]
            and outcome["attachments_ok"] == outcome["attachment_mails"] and outcome["mojibake"] == 0
            and failed == 0)


def peer_run(configuration: str, number: int, template: Path, corpus: Path, mails: list[Mail], work: Path,
             args: argparse.Namespace) -> dict[str, Any]:
    data_dir = work / f"{configuration}-{number}"
    data_dir.mkdir()
    shutil.copyfile(template, data_dir / "db.sqlite3")
    mailbox = data_dir / "mailbox"
    empty = data_dir / "empty"
    empty.mkdir()
    env = peer_env(data_dir, configuration)
    queue_dir = sqlite3.connect(data_dir / "db.sqlite3")
    try:
        with queue_dir:
            queue_dir.execute("UPDATE helpdesk_queue SET email_box_local_dir = ?", (f"{empty}/",))
        startup = run_timed(peer_manage("get_email"), env, PEER_PROJECT, data_dir / "empty.log", args.timeout)
        with queue_dir:
            queue_dir.execute("UPDATE helpdesk_queue SET email_box_local_dir = ?", (f"{mailbox}/",))
    finally:
        queue_dir.close()
    copy_mailbox(corpus, mailbox)
    listing = os.listdir(mailbox)  # the order get_email will read them in
    os.sync()  # the copy's writeback is not the peer's work
    load = os.getloadavg()
    timed = run_timed(peer_manage("get_email"), env, PEER_PROJECT, data_dir / "get_email.log", args.timeout)
    load_after = os.getloadavg()
    outcome = check_peer(data_dir, mailbox, listing, mails)
    refused = Counter(re.findall(r"Unsupported file extension: (\.\w+)", timed.output))
    outcome["refused_extensions_logged"] = dict(sorted(refused.items()))
    outcome["queue_failed"] = "Queue processing failed" in timed.output
    outcome["returncode"] = timed.returncode
    outcome["failed"] += int(timed.returncode != 0 or timed.timed_out or outcome["queue_failed"])
    outcome["target"] = _target(outcome, outcome["failed"])
    return _result(configuration, number, mails, timed, startup, load, load_after, outcome)


def deskhand_run(number: int, corpus: Path, mails: list[Mail], work: Path, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = work / f"deskhand-{number}"
    data_dir.mkdir()
    env = base_env()
    env.update({"DESKHAND_DATA_DIR": str(data_dir), "DESKHAND_SUPPORT_ADDRESSES": SUPPORT})
    _run([str(DESKHAND), "migrate", "-v0"], env=env)
    _run([str(DESKHAND), "shell", "-c", SETUP_MAILBOX], env=env)
    empty = data_dir / "empty"
    empty.mkdir()
    startup = run_timed([str(DESKHAND), "mail", "import", str(empty)], env, ROOT, work / f"deskhand-{number}-empty.log",
                        args.timeout)
    os.sync()  # as before the peer's runs
    load = os.getloadavg()
    timed = run_timed([str(DESKHAND), "mail", "import", str(corpus)], env, ROOT, work / f"deskhand-{number}.log",
                      args.timeout)
    load_after = os.getloadavg()
    database = str(data_dir / "deskhand.sqlite3")
    outcome = check_outcome(database, mails)
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        outcome["without_mailbox"] = connection.execute(
            "SELECT count(*) FROM mail_inboundemail WHERE mailbox_id IS NULL").fetchone()[0]
        outcome["journal_mode"] = connection.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        connection.close()
    statuses = outcome["statuses"]
    outcome["failed"] = (outcome["missing"] + sum(count for status, count in statuses.items() if status != "processed")
                         + int(timed.returncode != 0 or timed.timed_out))
    outcome["target"] = _target(outcome, outcome["failed"])
    return _result("deskhand", number, mails, timed, startup, load, load_after, outcome)


def _result(configuration: str, number: int, mails: list[Mail], timed: Timed, startup: Timed,
            load: tuple[float, float, float], load_after: tuple[float, float, float],
            outcome: dict[str, Any]) -> dict[str, Any]:
    return {
        "configuration": configuration, "run": number, "mails": len(mails),
        "load_before": load, "load_after": load_after,
        "wall_s": timed.wall_s, "mails_per_s": len(mails) / timed.wall_s,
        "startup_empty_s": startup.wall_s,
        "mails_per_s_without_startup": len(mails) / max(1e-9, timed.wall_s - startup.wall_s),
        "cpu_user_s": timed.user_s, "cpu_sys_s": timed.sys_s, "cpu_ms_per_mail": 1000 * timed.cpu_s / len(mails),
        "max_rss_mb": timed.max_rss_mb, "returncode": timed.returncode, "timed_out": timed.timed_out,
        "output_tail": timed.output.strip().splitlines()[-3:], "outcome": outcome,
    }


# -- report ------------------------------------------------------------------------------------


def describe(result: dict[str, Any]) -> str:
    outcome = result["outcome"]
    return (f"{result['configuration']} run {result['run']}: {result['wall_s']:.1f} s = {result['mails_per_s']:.0f} "
            f"mails/s (empty start-up {result['startup_empty_s']:.2f} s), CPU {result['cpu_ms_per_mail']:.1f} ms/mail, "
            f"peak RSS {result['max_rss_mb']:.0f} MB, load {result['load_before'][0]:.2f}→{result['load_after'][0]:.2f}; "
            f"tickets {outcome['tickets']}/{outcome['expected_tickets']}, replies threaded "
            f"{outcome['replies_threaded']}/{outcome['replies']}, attachments {outcome['attachments_ok']}/"
            f"{outcome['attachment_mails']}, mojibake {outcome['mojibake']}, failed {outcome['failed']} -> "
            f"{'target met' if outcome['target'] else 'target NOT met'}")


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [result["mails_per_s"] for result in results]
    outcomes = [result["outcome"] for result in results]

    def span(key: str) -> str:
        values = sorted({outcome[key] for outcome in outcomes})
        return str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"

    return {
        "runs": len(results), "mails_per_s": {"min": min(rates), "median": statistics.median(rates), "max": max(rates)},
        "startup_empty_s": statistics.median(result["startup_empty_s"] for result in results),
        "mails_per_s_without_startup": statistics.median(result["mails_per_s_without_startup"] for result in results),
        "cpu_ms_per_mail": statistics.median(result["cpu_ms_per_mail"] for result in results),
        "max_rss_mb": max(result["max_rss_mb"] for result in results),
        "load_before": [result["load_before"][0] for result in results],
        "tickets": span("tickets"), "replies_threaded": span("replies_threaded"), "replies": outcomes[0]["replies"],
        "attachments_ok": span("attachments_ok"), "attachment_mails": outcomes[0]["attachment_mails"],
        "mojibake": span("mojibake"), "failed": span("failed"),
        "target": all(outcome["target"] for outcome in outcomes),
    }


def table(summaries: dict[str, dict[str, Any]]) -> str:
    lines = ["| configuration | mails/s min | median | max | start-up (empty) | CPU ms/mail | peak RSS | load before "
             "| tickets | replies threaded | attachments identical | mojibake | failed | target |",
             "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    for name, s in summaries.items():
        rate = s["mails_per_s"]
        lines.append(
            f"| {name} | {rate['min']:.0f} | **{rate['median']:.0f}** | {rate['max']:.0f} | {s['startup_empty_s']:.1f} s "
            f"| {s['cpu_ms_per_mail']:.1f} | {s['max_rss_mb']:.0f} MB | {' / '.join(f'{x:.1f}' for x in s['load_before'])} "
            f"| {s['tickets']} | {s['replies_threaded']}/{s['replies']} | {s['attachments_ok']}/{s['attachment_mails']} "
            f"| {s['mojibake']} | {s['failed']} | {'yes' if s['target'] else 'no'} |")
    return "\n".join(lines)


def ratios(report: dict[str, Any]) -> dict[str, Any]:
    """Deskhand ÷ each peer configuration: of the medians, and per round (runs of the same round)."""
    modes = report["modes"]
    if "deskhand" not in modes:
        return {}
    ours = modes["deskhand"]
    result: dict[str, Any] = {}
    for name, mode in modes.items():
        if name == "deskhand":
            continue
        per_round = [a["mails_per_s"] / b["mails_per_s"] for a, b in zip(ours["runs"], mode["runs"], strict=False)]
        result[name] = {"of_medians": ours["summary"]["mails_per_s"]["median"] / mode["summary"]["mails_per_s"]["median"],
                        "per_round": per_round}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000, help="corpus size (make_corpus.py --n)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="runs of each configuration, alternating")
    parser.add_argument("--only", default=DEFAULT_ONLY, help=f"comma-separated, of: {', '.join(CONFIGURATIONS)}")
    parser.add_argument("--peer-version", default="2.6.1", help="django-helpdesk version to install")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before a timed process is killed")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (corpus, databases, logs)")
    args = parser.parse_args()
    configurations = [name.strip() for name in args.only.split(",") if name.strip()]
    if unknown := set(configurations) - set(CONFIGURATIONS):
        parser.error(f"unknown configuration(s): {', '.join(sorted(unknown))}")

    versions = ensure_peer(args.peer_version) if any(c.startswith("peer") for c in configurations) else {}
    work = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    try:
        corpus = work / "corpus"
        digest, manifest = make_corpus(corpus, args.n, args.seed)
        mails = read_corpus(corpus)
        replies = sum(1 for mail in mails if mail.parent)
        if (manifest["expected_tickets"], manifest["expected_replies_threaded"]) != (len(mails) - replies, replies):
            raise SystemExit(f"the manifest ({manifest['expected_tickets']} tickets, {manifest['expected_replies_threaded']}"
                             f" replies) and the corpus ({len(mails) - replies}, {replies}) disagree")
        print(f"corpus: {len(mails)} mails, sha256 {digest[:16]}, {len(mails) - replies} new, {replies} replies, "
              f"{sum(1 for m in mails if m.attachments)} with attachments", flush=True)
        template = make_peer_template(work / "peer-template") if versions else None
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        report: dict[str, Any] = {
            "corpus": {"n": args.n, "seed": args.seed, "sha256": digest, "manifest": manifest},
            "commit": commit.stdout.strip(), "python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version, "django": django_version(),
            "peer": {"package": PEER_PACKAGE, "versions": versions, "sqlite_init": SQLITE_PRAGMAS},
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "load_at_start": os.getloadavg(),
            "order": [], "modes": {name: {"runs": []} for name in configurations},
        }
        for number in range(1, args.runs + 1):
            shift = (number - 1) % len(configurations)
            for configuration in configurations[shift:] + configurations[:shift]:
                report["order"].append(f"{configuration} {number}")
                if configuration == "deskhand":
                    result = deskhand_run(number, corpus, mails, work, args)
                else:
                    assert template is not None
                    result = peer_run(configuration, number, template, corpus, mails, work, args)
                    if not args.keep:
                        shutil.rmtree(work / f"{configuration}-{number}", ignore_errors=True)
                print(describe(result), flush=True)
                for problem in result["outcome"]["problems"][:3]:
                    print(f"    {problem}")
                report["modes"][configuration]["runs"].append(result)
                if configuration == "deskhand" and not args.keep:
                    shutil.rmtree(work / f"deskhand-{number}", ignore_errors=True)
        for mode in report["modes"].values():
            mode["summary"] = summarize(mode["runs"])
        report["ratios"] = ratios(report)
        report["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        print()
        print(table({name: mode["summary"] for name, mode in report["modes"].items()}))
        for name, ratio in report["ratios"].items():
            print(f"Deskhand ÷ {name}: {ratio['of_medians']:.2f}× (medians; per round "
                  f"{', '.join(f'{r:.2f}' for r in ratio['per_round'])})")
        if args.json:
            args.json.write_text(json.dumps(report, indent=1, default=str, ensure_ascii=False) + "\n")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
