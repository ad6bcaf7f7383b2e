"""The load and fault campaign (issue 17), on loopback only, bounded in users and time.

    .venv/bin/python bench/load/run.py --config embedded --users 50 --seconds 60 [--mix agent=1]
    .venv/bin/python bench/load/run.py --config scaled --users 50 --seconds 60 [--web-workers 1]
    .venv/bin/python bench/load/run.py --config scaled --faults kill --seconds 150
    .venv/bin/python bench/load/run.py --config scaled --faults restart --seconds 90

`embedded` is `deskhand serve` on SQLite; `scaled` is the Procfile's form (2 web processes, 2
workers, the scheduler, 2 SMTP listeners, each under `deskhand supervise`) on PostgreSQL
(`--database-url`, made anew) and Redis (`--tasks-url`, its database emptied). A fresh data
directory each run; outbound mail goes to an SMTP sink in this process that counts each
Message-ID. Needs locust: `UV_PROJECT_ENVIRONMENT=.venv .tools/bin/uv sync --group load`.

Faults: `kill` sends kill -9, in the middle of the load, to one process of each kind in turn (web,
worker, smtpd, scheduler; embedded: the worker, then serve itself, which is started again as its
service manager would); `restart` restarts PostgreSQL and then Redis under the load. Afterwards
bench/load/verify.py checks every acknowledged write and the sink. JSON with `--json FILE`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
VENV = ROOT / ".venv" / "bin"
DESKHAND = str(VENV / "deskhand")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sink:
    """The outbound mail server: counts each Message-ID it is given."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.counts: Counter[str] = Counter()
        self.port = free_port()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                from email import message_from_bytes

                mail = message_from_bytes(envelope.original_content or envelope.content)
                sink.counts[str(mail.get("Message-ID", "")).strip()] += 1
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def processes(data_dir: Path) -> dict[int, str]:
    """This run's Deskhand processes (found by their data directory), pid → kind."""
    found: dict[int, str] = {}
    marker = f"DESKHAND_DATA_DIR={data_dir}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        line = b" ".join(words)
        if b"supervise" in line or b"honcho" in line or b"locust" in line or b"resource_tracker" in line:
            continue
        for kind in ("serve", "worker", "scheduler", "smtpd", "web"):
            if f"deskhand {kind}".encode() in line or f"-m deskhand {kind}".encode() in line:
                found[int(entry.name)] = kind
                break
        else:
            if b"multiprocessing.spawn" in line or b"spawn_main" in line:
                found[int(entry.name)] = "web-process"
    return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def wait_healthy(base: str, seconds: float) -> bool:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    return False


def fresh_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def start_target(args: argparse.Namespace, env: dict[str, str], data_dir: Path, ports: dict[str, int]) -> subprocess.Popen[bytes]:
    log = open(data_dir / "target.log", "ab")  # noqa: SIM115 - the process's, for as long as it runs
    if args.config == "embedded":
        return subprocess.Popen([DESKHAND, "serve", "--no-migrate", "--addr", f"127.0.0.1:{ports['http']}",
                                 "--smtp-addr", f"127.0.0.1:{ports['smtp']}"], env=env, stdout=log, stderr=log,
                                start_new_session=True)
    procfile = data_dir / "Procfile"
    procfile.write_text("\n".join([
        f"web: {DESKHAND} supervise web --workers {args.web_workers} --addr 127.0.0.1:{ports['http']}",
        f"worker: {DESKHAND} supervise worker --no-scheduler",
        f"scheduler: {DESKHAND} supervise scheduler",
        f"smtpd: {DESKHAND} supervise smtpd --addr 127.0.0.1:{ports['smtp']}",
    ]) + "\n")
    return subprocess.Popen([str(VENV / "honcho"), "-f", str(procfile), "-d", str(ROOT), "start", "-c",
                             f"web=1,worker={args.workers},scheduler=1,smtpd={args.smtpds}"],
                            env=env, stdout=log, stderr=log, start_new_session=True)


def stop_target(target: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(target.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        target.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(target.pid, signal.SIGKILL)
        target.wait()


def restart_postgresql() -> None:
    subprocess.run(["pg_ctlcluster", "15", "main", "restart", "-m", "fast"], check=True, capture_output=True, timeout=120)


def restart_redis() -> None:
    """This machine's Redis keeps nothing on disk: a restart loses every queued task, the harder case."""
    import redis

    settings = {key: redis.Redis().config_get(key)[key] for key in ("dir", "logfile")}
    subprocess.run(["redis-cli", "shutdown", "nosave"], check=False, capture_output=True, timeout=30)
    time.sleep(1)
    subprocess.run(["redis-server", "--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no",
                    "--daemonize", "yes", "--dir", settings["dir"], "--logfile", settings["logfile"]],
                   check=True, capture_output=True, timeout=30)


class Faults(threading.Thread):
    """Kill -9 one process of each kind in turn (or restart PostgreSQL and Redis) under the load."""

    def __init__(self, args: argparse.Namespace, data_dir: Path, restart_serve: Any) -> None:
        super().__init__(daemon=True)
        self.args, self.data_dir, self.restart_serve = args, data_dir, restart_serve
        self.events: list[dict[str, Any]] = []

    def run(self) -> None:
        time.sleep(self.args.fault_after)
        if self.args.faults == "restart":
            for name, restart in (("postgresql", restart_postgresql), ("redis", restart_redis)):
                started = time.monotonic()
                restart()
                self.events.append({"restarted": name, "at": round(time.time(), 1),
                                    "seconds": round(time.monotonic() - started, 1)})
                time.sleep(self.args.fault_gap)
            return
        kinds = ["worker", "serve"] if self.args.config == "embedded" else ["web-process", "worker", "smtpd", "scheduler"]
        for kind in kinds:
            before = processes(self.data_dir)
            victims = sorted(pid for pid, k in before.items() if k == kind)
            if not victims:
                self.events.append({"kind": kind, "error": "no such process"})
                continue
            victim = victims[0]
            os.kill(victim, signal.SIGKILL)
            killed = time.monotonic()
            if kind == "serve":
                time.sleep(0.5)
                self.restart_serve()
            while time.monotonic() - killed < 90:
                now = processes(self.data_dir)
                if sum(1 for pid, k in now.items() if k == kind and pid != victim) >= len(victims):
                    break
                time.sleep(0.2)
            self.events.append({"kind": kind, "pid": victim, "replaced_after_s": round(time.monotonic() - killed, 1)})
            time.sleep(self.args.fault_gap)


def locust_summary(prefix: Path) -> dict[str, Any]:
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv")))  # noqa: SIM115
    out: dict[str, Any] = {}
    for row in rows:
        out[row["Name"] if row["Name"] != "Aggregated" else "all"] = {
            "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "p50_ms": float(row["50%"] or 0), "p95_ms": float(row["95%"] or 0), "p99_ms": float(row["99%"] or 0),
            "rps": round(float(row["Requests/s"]), 1)}
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1) if ordered else 0.0


def working_latency(times: dict[str, list[list[float]]], since: float, until: float) -> dict[str, Any]:
    """The users' work once all have signed in (signing in hashes a password on purpose: a third
    of a second, once per session), between `since` and `until`, HTTP and SMTP apart."""
    def window(values: list[list[float]]) -> list[float]:
        return [ms for at, ms in values if since <= at <= until]

    http = [t for name, values in times.items() if "login" not in name and not name.startswith("SMTP")
            for t in window(values)]
    smtp = [t for name, values in times.items() if name.startswith("SMTP") for t in window(values)]
    seconds = max(1.0, until - since)
    return {"window_s": round(seconds), "http": {"requests": len(http), "rps": round(len(http) / seconds, 1),
                                                 "p50_ms": percentile(http, 0.5),
                     "p95_ms": percentile(http, 0.95), "p99_ms": percentile(http, 0.99)},
            "smtp": {"mails": len(smtp), "per_s": round(len(smtp) / seconds, 1), "p50_ms": percentile(smtp, 0.5),
                     "p95_ms": percentile(smtp, 0.95)}}


def prepare(args: argparse.Namespace, data_dir: Path, sink: Sink, **variables: str) -> dict[str, str]:
    """The environment of the help desk under test, its database fresh and migrated."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DESKHAND_")}
    env.update({"DESKHAND_DATA_DIR": str(data_dir), "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
                "DJANGO_SETTINGS_MODULE": "deskhand.settings", "PYTHONUNBUFFERED": "1", **variables})
    if args.config == "embedded":
        env["DATABASE_URL"] = ""
    else:
        import redis

        fresh_postgres(args.database_url)
        redis.Redis.from_url(args.tasks_url).flushdb()
        env.update({"DATABASE_URL": args.database_url, "DESKHAND_TASKS_URL": args.tasks_url})
    subprocess.run([DESKHAND, "migrate", "--no-input", "-v", "0"], env=env, check=True)
    return env


def settle(env: dict[str, str], data_dir: Path, records: Path, sink: Sink, *, started: float,
           seconds: float) -> dict[str, Any]:
    """verify.py's report once the workers have caught up (or after `seconds`)."""
    report: dict[str, Any] = {}
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        sink_file = data_dir / "sink.json"
        sink_file.write_text(json.dumps(sink.counts))
        result = subprocess.run([str(VENV / "python"), str(ROOT / "bench/load/verify.py"), str(records),
                                 str(sink_file), str(time.monotonic() - started)], env=env, capture_output=True, text=True)
        if result.returncode == 0:
            report = json.loads(result.stdout)
            half = report["half_written"]
            # (the sink's counts are written before the check reads the outbox: a mail sent in
            # between is "sent but not received" until the next look)
            if not report["lost"] and not half["inbound_left_received"] and not half["outbound_left_queued"] \
                    and not report["sink"]["sent_but_not_received"]:
                break
        time.sleep(2)
    report["settle_seconds"] = round(time.monotonic() - began, 1)
    return report


def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"deskhand-load-{args.config}-"))
    ports = {"http": free_port(), "smtp": free_port()}
    sink = Sink()
    env = prepare(args, data_dir, sink)
    seed = subprocess.run([str(VENV / "python"), str(ROOT / "bench/load/seed.py"), "--agents", str(max(args.users, 10)),
                           "--tickets", str(args.tickets)], env=env, check=True, capture_output=True, text=True).stdout
    (data_dir / "seed.json").write_text(seed)
    target_box = [start_target(args, env, data_dir, ports)]
    started = time.monotonic()
    base = f"http://127.0.0.1:{ports['http']}"
    if not wait_healthy(base, 120):
        stop_target(target_box[0])
        raise SystemExit(f"the target did not come up; see {data_dir / 'target.log'}")

    def restart_serve() -> None:
        target_box[0].wait()
        target_box[0] = start_target(args, env, data_dir, ports)

    records = data_dir / "records.jsonl"
    statuses = data_dir / "statuses.json"
    locust_env = {**env, "LOAD_SEED": str(data_dir / "seed.json"), "LOAD_RECORDS": str(records),
                  "LOAD_STATUSES": str(statuses), "LOAD_SMTP": f"127.0.0.1:{ports['smtp']}", "LOAD_MIX": args.mix,
                  "LOAD_THINK": str(args.think)}
    prefix = data_dir / "locust"
    load_started = time.time()
    load = subprocess.Popen([str(VENV / "locust"), "-f", str(ROOT / "bench/load/locustfile.py"), "--headless",
                             "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.seconds}s",
                             "--host", base, "--csv", str(prefix), "--only-summary", "--stop-timeout", "10",
                             "--exit-code-on-error", "0"],
                            env=locust_env, stdout=open(data_dir / "locust.log", "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
    faults = Faults(args, data_dir, restart_serve) if args.faults != "none" else None
    if faults:
        faults.start()
    time.sleep(args.seconds * 0.7)
    memory: dict[str, list[float]] = {}
    for pid, kind in sorted(processes(data_dir).items()):
        memory.setdefault(kind, []).append(rss_mb(pid))
    load.wait(args.seconds + 120)
    if faults:
        faults.join(120)
    # Let the workers finish what was accepted, then check.
    report = settle(env, data_dir, records, sink, started=started, seconds=args.settle)
    stop_target(target_box[0])
    sink.stop()
    tallies = json.loads(statuses.read_text()) if statuses.exists() else {}
    summary = {
        "config": args.config, "users": args.users, "seconds": args.seconds, "mix": args.mix, "think": args.think,
        "faults": args.faults, "fault_events": faults.events if faults else [],
        "web_workers": args.web_workers if args.config == "scaled" else 1,
        # From when every user has signed in (plus 5 s) to the end of the load.
        "working": working_latency(tallies.get("times", {}), load_started + args.users / args.spawn_rate + 5,
                                   load_started + args.seconds),
        "statuses": tallies.get("statuses", {}),
        "latency": locust_summary(prefix),
        "memory_mb": memory,
        "check": report,
        "data_dir": str(data_dir),
    }
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=["embedded", "scaled"], default="embedded")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--mix", default="agent=6,api=2,portal=1,mail=1")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--think", type=float, default=1.0, help="scales the users' pauses; 0 measures throughput")
    parser.add_argument("--faults", choices=["none", "kill", "restart"], default="none")
    parser.add_argument("--fault-after", type=float, default=15)
    parser.add_argument("--fault-gap", type=float, default=15)
    parser.add_argument("--settle", type=float, default=120)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smtpds", type=int, default=2)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/deskhand_load")
    parser.add_argument("--tasks-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--json", default="")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if not (VENV / "locust").exists():
        raise SystemExit("locust is not installed: UV_PROJECT_ENVIRONMENT=.venv .tools/bin/uv sync --group load")
    if not 1 <= args.users <= 500 or not 5 <= args.seconds <= 1800:
        raise SystemExit("--users 1..500, --seconds 5..1800: the campaign is bounded")
    summary = run(args)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
