"""Abuse of a running `deskhand serve`, as an attacker on the open internet would try it (issue 11,
items 4, 5 and 8), bounded in count and time and sent to loopback only.

    .venv/bin/python bench/abuse.py [--json FILE] [--slow 1000] [--hold 30]

It starts `deskhand serve` on free loopback ports with a throwaway data directory, then:

1. SMTP memory: three connections that each send 60 MB without a newline, then three parallel
   90 MB messages, while the server's resident memory is sampled every 20 ms (peak RSS, target
   < 300 MB); and 150 connections at once (how many are turned away with a 4xx).
2. Slow HTTP: `--slow` connections (default 1 000) that send a request line and then one header
   line every 10 s, re-opened when the server drops them, held for `--hold` seconds; meanwhile
   `/healthz` is fetched over fresh connections and its latency recorded (p95, target < 100 ms).
3. Hostile input: integers beyond 64 bits, Unicode digits, 5 000 query parameters and a
   multipart body without a boundary, against the web app (signed in) and the API (with a token);
   every 5xx is counted (target 0).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DESKHAND = ROOT / ".venv" / "bin" / "deskhand"
HOST = "127.0.0.1"
ADMIN, PASSWORD = "abuse-admin@deskhand.test", "abuse-Benchmark-2026"
SUPPORT = "support@abuse.test"
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], share: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1) if ordered else None


class Serve:
    """`deskhand serve` in a subprocess with its own data directory."""

    def __init__(self) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="deskhand-abuse-"))
        self.http_port, self.smtp_port = free_port(), free_port()
        self.env = {**os.environ, "DESKHAND_DATA_DIR": str(self.data_dir),
                    "DESKHAND_HTTP_ADDR": f"{HOST}:{self.http_port}", "DESKHAND_SMTP_ADDR": f"{HOST}:{self.smtp_port}",
                    "DESKHAND_ADMIN_EMAIL": ADMIN, "DESKHAND_ADMIN_PASSWORD": PASSWORD,
                    "DESKHAND_SUPPORT_ADDRESSES": SUPPORT}
        self.env.pop("DATABASE_URL", None)
        self.log = open(self.data_dir / "serve.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([str(DESKHAND), "serve"], env=self.env, cwd=ROOT, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.base = f"http://{HOST}:{self.http_port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            if self.process.poll() is not None:
                raise SystemExit(f"serve exited: see {self.data_dir / 'serve.log'}")
            time.sleep(0.2)
        else:
            raise SystemExit("serve did not answer /healthz within 60 s")
        done = subprocess.run([str(DESKHAND), "token", "create", "--email", ADMIN], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        self.token = done.stdout.split()[-1]

    def rss_mb(self) -> float:
        return _rss_mb(self.process.pid)

    def worker_rss_mb(self) -> float:
        """The worker process `serve` starts beside itself (it files the mail)."""
        children = [int(child) for task in Path(f"/proc/{self.process.pid}/task").iterdir()
                    for child in (task / "children").read_text().split()]
        return max((_rss_mb(child) for child in children), default=0.0)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def remove(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


class RssSampler(threading.Thread):
    def __init__(self, serve: Serve) -> None:
        super().__init__(daemon=True)
        self.serve, self.peak, self.worker_peak, self.stopped = serve, 0.0, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set() and self.serve.alive():
            with suppress(OSError, AttributeError):
                self.peak = max(self.peak, self.serve.rss_mb())
                self.worker_peak = max(self.worker_peak, self.serve.worker_rss_mb())
            time.sleep(0.02)


# -- 1. SMTP ------------------------------------------------------------------------------------


def _smtp_reply(sock: socket.socket) -> str:
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data.decode(errors="replace") or "(closed)"
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) > 1 and re.match(rb"^\d{3} ", lines[-2]):
            return data.decode(errors="replace").strip()


def _smtp_open(port: int) -> tuple[socket.socket, str]:
    sock = socket.create_connection((HOST, port), timeout=60)
    return sock, _smtp_reply(sock)


def _smtp_envelope(sock: socket.socket) -> str:
    for command in (b"EHLO abuse.test", b"MAIL FROM:<attacker@abuse.test>", f"RCPT TO:<{SUPPORT}>".encode(),
                    b"DATA"):
        sock.sendall(command + b"\r\n")
        reply = _smtp_reply(sock)
        if reply[:1] not in ("2", "3"):
            return reply
    return reply


def smtp_send(port: int, blocks: Iterator[bytes]) -> str:
    """One session: the envelope, then DATA made of `blocks`; the server's last reply."""
    try:
        sock, _ = _smtp_open(port)
        with sock:
            reply = _smtp_envelope(sock)
            if not reply.startswith("354"):
                return f"refused before data: {reply[:80]}"
            for block in blocks:
                sock.sendall(block)
            return _smtp_reply(sock)[:80]
    except OSError as exc:
        return f"connection ended: {exc.__class__.__name__}"


def no_newline(size: int) -> Iterator[bytes]:
    """`size` bytes of DATA without a single newline, then the end of data."""
    chunk = b"A" * MB
    for _ in range(size // MB):
        yield chunk
    yield b"\r\n.\r\n"


def big_message(size: int) -> Iterator[bytes]:
    """A well-formed message of about `size` bytes (base64-looking lines)."""
    yield (b"From: attacker@abuse.test\r\nTo: " + SUPPORT.encode() + b"\r\nSubject: big\r\n"
           b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
    line = b"QUJD" * 19 + b"\r\n"
    block = line * (MB // len(line))
    for _ in range(size // len(block)):
        yield block
    yield b".\r\n"


def smtp_many_sessions(port: int, count: int) -> dict[str, int]:
    socks, greetings = [], []
    for _ in range(count):
        try:
            sock, greeting = _smtp_open(port)
            socks.append(sock)
            greetings.append(greeting[:3])
        except OSError:
            greetings.append("err")
    for sock in socks:
        sock.close()
    return {code: greetings.count(code) for code in sorted(set(greetings))}


def parallel(target: Any, args: list[tuple[Any, ...]]) -> list[Any]:
    results: list[Any] = [None] * len(args)

    def run(index: int) -> None:
        results[index] = target(*args[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(args))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    return results


def smtp_phase(serve: Serve) -> dict[str, Any]:
    sampler = RssSampler(serve)
    baseline = serve.rss_mb()
    sampler.start()
    no_newline_replies = parallel(smtp_send, [(serve.smtp_port, no_newline(60 * MB)) for _ in range(3)])
    after_no_newline = serve.rss_mb()
    big = parallel(smtp_send, [(serve.smtp_port, big_message(90 * MB)) for _ in range(3)])
    sessions = smtp_many_sessions(serve.smtp_port, 150)
    # The peak includes filing what was accepted (the worker parses it): wait until nothing waits.
    began, waiting = time.monotonic(), -1
    while time.monotonic() - began < 300:
        with suppress(httpx.HTTPError, KeyError, ValueError):
            waiting = httpx.get(f"{serve.base}/api/v1/inbound-emails", params={"status": "received"}, timeout=10,
                                headers={"Authorization": f"Bearer {serve.token}"}).json()["count"]
            if waiting == 0:
                break
        time.sleep(1)
    sampler.stopped.set()
    sampler.join()
    outcomes: dict[str, int] = {}
    with suppress(httpx.HTTPError, KeyError, ValueError):
        listed = httpx.get(f"{serve.base}/api/v1/inbound-emails", params={"page_size": 50}, timeout=10,
                           headers={"Authorization": f"Bearer {serve.token}"}).json()
        for row in listed["items"]:
            outcome = f"{row['status']}: {row['reason'][:70]}"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {"outcomes": outcomes, "rss_baseline_mb": round(baseline, 1), "rss_peak_mb": round(sampler.peak, 1),
            "worker_rss_peak_mb": round(sampler.worker_peak, 1),
            "rss_after_no_newline_mb": round(after_no_newline, 1), "rss_end_mb": round(serve.rss_mb(), 1),
            "filed_within_s": round(time.monotonic() - began, 1), "still_waiting": waiting,
            "no_newline_replies": no_newline_replies, "big_message_replies": big, "150_sessions_greetings": sessions,
            "serve_alive": serve.alive()}


# -- 2. Slow HTTP -------------------------------------------------------------------------------


def slow_http_phase(serve: Serve, *, connections: int, hold: float) -> dict[str, Any]:
    selector = selectors.DefaultSelector()
    opened = dropped = refused = 0
    last_line: dict[socket.socket, float] = {}

    def open_one() -> None:
        nonlocal opened, refused
        try:
            sock = socket.create_connection((HOST, serve.http_port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
            last_line[sock] = time.monotonic()
            opened += 1
        except OSError:
            refused += 1

    for _ in range(connections):
        open_one()
    latencies: list[float] = []
    failures = 0
    stop = time.monotonic() + hold
    client_errors: list[str] = []
    while time.monotonic() < stop:
        for key, _ in selector.select(timeout=0):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:  # the server dropped it: the attacker comes back
                selector.unregister(sock)
                last_line.pop(sock, None)
                sock.close()
                dropped += 1
                if dropped < connections * 20:
                    open_one()
        now = time.monotonic()
        for sock, at in list(last_line.items()):
            if now - at > 10:
                with suppress(OSError):
                    sock.send(b"X-Slow: 1\r\n")
                last_line[sock] = now
        began = time.perf_counter()
        try:
            response = httpx.get(f"{serve.base}/healthz", timeout=5)
            if response.status_code == 200:
                latencies.append((time.perf_counter() - began) * 1000)
            else:
                failures += 1
        except httpx.HTTPError as exc:
            failures += 1
            client_errors.append(exc.__class__.__name__)
        time.sleep(0.05)
    held = len(last_line)
    for sock in list(last_line):
        sock.close()
    return {"slow_connections": connections, "held_at_end": held, "opened": opened, "dropped_by_server": dropped,
            "refused": refused, "healthz_requests": len(latencies) + failures, "healthz_failures": failures,
            "healthz_p50_ms": percentile(latencies, 0.5), "healthz_p95_ms": percentile(latencies, 0.95),
            "healthz_max_ms": round(max(latencies), 1) if latencies else None,
            "client_errors": sorted(set(client_errors)), "serve_alive": serve.alive()}


# -- 3. Hostile input ---------------------------------------------------------------------------

HOSTILE = ["18446744073709551616", "99999999999999999999999999", "²", "١٢", "-1", "0", "1e3", " 1", "%00", "",
           "none'--", "1.5"]
WEB_PATHS = ["/customers?organization={v}", "/customers/groups/{v}", "/customers?offset={v}", "/tickets?organization={v}",
             "/tickets?page={v}", "/tickets?assignee={v}", "/tickets?project={v}", "/tickets/{v}", "/tasks/{v}",
             "/customers/{v}", "/organizations/{v}", "/timesheets?project={v}", "/projects/{v}"]
API_PATHS = ["/api/v1/customers?organization={v}", "/api/v1/customers?page={v}", "/api/v1/customers?page_size={v}",
             "/api/v1/customers/{v}", "/api/v1/organizations/{v}", "/api/v1/tickets?organization={v}",
             "/api/v1/tickets?status={v}", "/api/v1/tickets/{v}", "/api/v1/tickets?assignee={v}",
             "/api/v1/inbound-emails?status={v}", "/api/v1/timesheets?item={v}", "/api/v1/projects/{v}"]


def _sign_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    client.post("/login", data={"email": ADMIN, "password": PASSWORD,
                                "csrfmiddlewaretoken": token.group(1) if token else ""},
                headers={"Referer": f"{base}/login"})
    return client


def hostile_phase(serve: Serve) -> dict[str, Any]:
    web = _sign_in(serve.base)
    api = httpx.Client(base_url=serve.base, timeout=30, headers={"Authorization": f"Bearer {serve.token}"})
    statuses: dict[int, int] = {}
    errors: list[str] = []

    def note(client: httpx.Client, method: str, url: str, **kwargs: Any) -> None:
        try:
            status = client.request(method, url, **kwargs).status_code
        except httpx.HTTPError as exc:
            status = 599
            errors.append(f"{method} {url[:80]}: {exc.__class__.__name__}")
        statuses[status] = statuses.get(status, 0) + 1
        if status >= 500:
            errors.append(f"{status} {method} {url[:100]}")

    for value in HOSTILE:
        for path in WEB_PATHS:
            note(web, "GET", path.format(v=value))
        for path in API_PATHS:
            note(api, "GET", path.format(v=value))
    many = "&".join(f"p{i}=1" for i in range(5000))
    note(web, "GET", f"/customers?{many}")
    note(api, "GET", f"/api/v1/customers?{many}")
    csrf = web.cookies.get("csrftoken", "")
    headers = {"Content-Type": "multipart/form-data", "X-CSRFToken": csrf, "Referer": f"{serve.base}/customers"}
    note(web, "POST", "/customers/import", content=b"email\r\nana@acme.example\r\n", headers=headers)
    note(api, "POST", "/api/v1/customers/import", content=b"email\r\nana@acme.example\r\n",
         headers={"Content-Type": "multipart/form-data"})
    requests = sum(statuses.values())
    return {"requests": requests, "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "5xx": sum(v for k, v in statuses.items() if k >= 500), "errors": errors[:40],
            "serve_alive": serve.alive()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--slow", type=int, default=1000, help="slow HTTP connections to hold")
    parser.add_argument("--hold", type=float, default=30.0, help="seconds to hold them")
    parser.add_argument("--skip", action="append", default=[], choices=["smtp", "http", "input"])
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    serve = Serve()
    result: dict[str, Any] = {"commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                                       capture_output=True, text=True).stdout.strip()}
    try:
        if "smtp" not in args.skip:
            result["smtp"] = smtp_phase(serve)
            print("smtp:", json.dumps(result["smtp"]), flush=True)
        if "http" not in args.skip and serve.alive():
            result["http"] = slow_http_phase(serve, connections=args.slow, hold=args.hold)
            print("http:", json.dumps(result["http"]), flush=True)
        if "input" not in args.skip and serve.alive():
            result["input"] = hostile_phase(serve)
            print("input:", json.dumps(result["input"]), flush=True)
    finally:
        result["serve_alive_at_end"] = serve.alive()
        serve.stop()
        log = (serve.data_dir / "serve.log").read_text(errors="replace")
        result["serve_log_tracebacks"] = log.count("Traceback")
        if not args.keep:
            serve.remove()
    summary = {"peak_rss_mb": result.get("smtp", {}).get("rss_peak_mb"),
               "worker_peak_rss_mb": result.get("smtp", {}).get("worker_rss_peak_mb"),
               "healthz_p95_ms_under_slow_connections": result.get("http", {}).get("healthz_p95_ms"),
               "healthz_failures": result.get("http", {}).get("healthz_failures"),
               "count_5xx": result.get("input", {}).get("5xx"), "serve_alive_at_end": result["serve_alive_at_end"]}
    result["summary"] = summary
    print("summary:", json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
