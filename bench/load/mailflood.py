"""The short fault test CI runs (.ci/run): a bounded mail flood over SMTP while the SMTP listener
and the worker are killed with -9 and come back; then every mail answered 250 must be exactly one
ticket, nothing may be left half-filed, and no outbound mail may reach the sink twice. Exits 1
when a check fails. No locust needed.

    .venv/bin/python bench/load/mailflood.py --config embedded [--mails 300] [--senders 6]
    .venv/bin/python bench/load/mailflood.py --config scaled   (PostgreSQL and Redis on loopback)

Senders behave as mail servers do: a mail refused with 4xx or cut off is sent again (at most 10
times), so every mail is eventually answered 250 once the listener is back.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import smtplib
import sys
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import Sink, free_port, prepare, processes, settle, start_target, stop_target, wait_healthy  # noqa: E402, I001


def flood(port: int, total: int, senders: int, records: Path, deadline: float) -> dict[str, int]:
    counter = iter(range(total))
    lock = threading.Lock()
    tally = {"accepted": 0, "retries": 0, "given_up": 0}

    def sender() -> None:
        while time.monotonic() < deadline:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            marker = uuid.uuid4().hex
            mail = EmailMessage()
            mail["From"] = f"mail-{marker[:10]}@client{number % 8}.example"
            mail["To"] = "support@deskhand.test"
            mail["Subject"] = f"Mail request {marker}"
            mail["Message-ID"] = f"<{marker}@flood.example>"
            mail.set_content(f"Flood mail {number}.\n")
            for _attempt in range(10):
                try:
                    with smtplib.SMTP("127.0.0.1", port, timeout=20) as client:
                        client.send_message(mail)
                except (OSError, smtplib.SMTPException):
                    with lock:
                        tally["retries"] += 1
                    time.sleep(0.5)
                    continue
                with lock:
                    tally["accepted"] += 1
                    with records.open("a") as handle:
                        handle.write(json.dumps({"kind": "mail", "marker": marker}) + "\n")
                break
            else:
                with lock:
                    tally["given_up"] += 1

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=["embedded", "scaled"], default="embedded")
    parser.add_argument("--mails", type=int, default=300)
    parser.add_argument("--senders", type=int, default=6)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/deskhand_flood")
    parser.add_argument("--tasks-url", default="redis://127.0.0.1:6379/3")
    args = parser.parse_args()
    if not 1 <= args.mails <= 5000 or not 1 <= args.senders <= 50:
        raise SystemExit("--mails 1..5000, --senders 1..50: the flood is bounded")
    args.web_workers, args.workers, args.smtpds = 1, 2, 2
    data_dir = Path(tempfile.mkdtemp(prefix=f"deskhand-flood-{args.config}-"))
    ports = {"http": free_port(), "smtp": free_port()}
    sink = Sink()
    env = prepare(args, data_dir, sink, DESKHAND_SUPPORT_ADDRESSES="support@deskhand.test")
    target = [start_target(args, env, data_dir, ports)]
    started = time.monotonic()
    failures: list[str] = []
    try:
        if not wait_healthy(f"http://127.0.0.1:{ports['http']}", 120):
            raise SystemExit(f"the target did not come up; see {data_dir / 'target.log'}")
        records = data_dir / "records.jsonl"
        records.touch()
        events: list[str] = []

        def faults() -> None:
            kinds = ["serve", "worker"] if args.config == "embedded" else ["smtpd", "worker"]
            for share, kind in zip((0.25, 0.5), kinds, strict=True):
                while sum(1 for _ in records.open()) < args.mails * share and time.monotonic() < deadline:
                    time.sleep(0.1)
                victims = sorted(pid for pid, k in processes(data_dir).items() if k == kind)
                if not victims:
                    failures.append(f"no {kind} process to kill")
                    continue
                os.kill(victims[0], signal.SIGKILL)
                events.append(f"killed {kind} {victims[0]} after {sum(1 for _ in records.open())} mails")
                if kind == "serve":
                    target[0].wait()
                    target[0] = start_target(args, env, data_dir, ports)

        deadline = time.monotonic() + args.max_seconds
        killer = threading.Thread(target=faults, daemon=True)
        killer.start()
        tally = flood(ports["smtp"], args.mails, args.senders, records, deadline)
        killer.join(30)
        report = settle(env, data_dir, records, sink, started=started, seconds=120)
        mail = report.get("writes", {}).get("mail", {}) if report else {}
        print(json.dumps({"config": args.config, "events": events, "flood": tally, "mail": mail,
                          "inbound": report.get("inbound_by_status"), "sink": report.get("sink"),
                          "half_written": report.get("half_written")}, indent=1))
        if tally["accepted"] != args.mails:
            failures.append(f"{args.mails - tally['accepted']} mails never answered 250")
        if not report:
            failures.append("could not check the database")
        else:
            if report["lost"] or report["duplicated"]:
                failures.append(f"lost {report['lost']}, duplicated {report['duplicated']}")
            if any(report["half_written"].values()):
                failures.append(f"half-done: {report['half_written']}")
            if report["sink"]["delivered_twice"] or report["sink"]["sent_but_not_received"]:
                failures.append(f"outbound: {report['sink']}")
        if len(events) != 2:
            failures.append(f"faults: {events}")
    finally:
        stop_target(target[0])
        sink.stop()
    if failures:
        print("FAULT TEST FAILED:", "; ".join(failures), f"(kept {data_dir})")
        return 1
    shutil.rmtree(data_dir, ignore_errors=True)
    print(f"fault test passed ({args.config}): {args.mails} mails, each exactly one ticket")
    return 0


if __name__ == "__main__":
    sys.exit(main())
