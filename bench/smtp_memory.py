"""Peak memory of `deskhand smtpd` while it receives large mails in parallel (issue 11, item 4).

    .venv/bin/python bench/smtp_memory.py                # 3 parallel mails of 90 MB
    .venv/bin/python bench/smtp_memory.py --mails 3 --mb 90 --source /path/to/a/deskhand/checkout

Starts the listener alone on loopback with a throwaway data directory and SQLite database, sends
the mails with smtplib (base64 lines ending in CRLF, as mail clients write them) and prints the
listener's peak resident memory (VmHWM) and how long the mails took. `--source` runs another
checkout of Deskhand (its `deskhand` package first on the path) with this interpreter, to compare.
"""

from __future__ import annotations

import argparse
import base64
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mail(megabytes: int) -> bytes:
    payload = base64.encodebytes(os.urandom(megabytes * 1_000_000 * 57 // 78)).replace(b"\n", b"\r\n")
    head = (b"From: ana@acme.example\r\nTo: support@deskhand.test\r\nSubject: Large\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
    return head + payload


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=3)
    parser.add_argument("--mb", type=int, default=90)
    parser.add_argument("--source", default="", help="a Deskhand checkout to run instead of this one")
    args = parser.parse_args()
    raw = _mail(args.mb)
    with tempfile.TemporaryDirectory() as data_dir:
        port = _free_port()
        env = {**os.environ, "DESKHAND_DATA_DIR": data_dir, "DATABASE_URL": "",
               "DESKHAND_SMTP_ADDR": f"127.0.0.1:{port}", "DESKHAND_SUPPORT_ADDRESSES": "support@deskhand.test"}
        if args.source:
            env["PYTHONPATH"] = args.source
        command = [sys.executable, "-m", "deskhand"]
        subprocess.run([*command, "migrate", "-v0"], env=env, check=True, cwd=data_dir)
        # Not from this folder: `python -m` puts the working directory first on the path.
        listener = subprocess.Popen([*command, "smtpd"], env=env, stdout=subprocess.DEVNULL, cwd=data_dir)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the listener did not start"
                    time.sleep(0.2)
            idle = _peak_kib(listener.pid)
            answers: list[object] = []

            def send() -> None:
                with smtplib.SMTP("127.0.0.1", port, timeout=600) as client:
                    answers.append(client.sendmail("ana@acme.example", ["support@deskhand.test"], raw))

            started = time.monotonic()
            senders = [threading.Thread(target=send) for _ in range(args.mails)]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()
            took = time.monotonic() - started
            peak = _peak_kib(listener.pid)
        finally:
            listener.terminate()
            listener.wait(timeout=30)
    print(f"{args.mails} parallel mails of {len(raw) / 1e6:.0f} MB: accepted {answers.count({})}/{args.mails}, "
          f"{took:.1f} s; listener RSS idle {idle / 1024:.0f} MB, peak {peak / 1024:.0f} MB")


if __name__ == "__main__":
    main()
