"""Benchmark: customers and organizations at 100 000 customers.

    .venv/bin/python bench/customers.py [--customers 100000] [--domains 10000] [--database-url URL]

1. Load: creates N customers through `find_or_create_customer` (the one path every channel uses),
   ~85 % at company domains `co{i}.example` (spread over --domains domains, so the domain rule
   auto-creates one organization per domain) and ~15 % at gmail.com / outlook.com / yahoo.com
   ("No organization"). Reports customers/s (wall clock) and the organization count.
2. HTTP: starts `deskhand serve` on a free 127.0.0.1 port with the same data directory and
   database, and measures sequential round-trips from one keep-alive httpx client:
   `POST /api/v1/customers` (new addresses at existing and new company domains) and
   `GET /api/v1/customers?organization=<id>&page_size=50` (random organizations); also, as an
   extra row, the "No organization" list (`?organization=none`, ~15 % of all customers).
3. Diagnostics: the same three calls in-process (Django test client) with the SQL captured:
   queries per request, SQL time, and the statements that take the most time.

A fresh data directory (a temporary one) is used; the database must be empty. With no
--database-url, SQLite in that data directory. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com")
FREE_MAIL_SHARE = 0.15
PROGRESS_EVERY = 10_000
WARMUP = 50
SERVER_START_TIMEOUT = 180.0
REQUEST_TIMEOUT = 30.0


@dataclass
class Latency:
    """Client-side round-trip times of one call, in milliseconds."""

    name: str
    samples_ms: list[float] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile."""
        ordered = sorted(self.samples_ms)
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1]

    def summary(self) -> dict[str, Any]:
        return {
            "call": self.name,
            "n": len(self.samples_ms),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
            "max_ms": round(max(self.samples_ms), 2),
        }


@dataclass
class QueryProfile:
    """SQL issued by one in-process request, averaged over a few requests."""

    call: str
    requests: int
    queries_per_request: float
    sql_ms_per_request: float
    wall_ms_per_request: float
    statements: list[dict[str, Any]]


@dataclass
class Report:
    database: str
    customers: int
    domains: int
    seed: int
    load_seconds: float = 0.0
    customers_per_second: float = 0.0
    organizations: int = 0
    customers_without_organization: int = 0
    analyzed: bool = False
    autovacuum: str = ""
    largest_organization: int = 0
    latencies: list[dict[str, Any]] = field(default_factory=list)
    queries: list[QueryProfile] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    date: str = ""


# -- set-up --------------------------------------------------------------------------------------


def configure(data_dir: Path, database_url: str) -> None:
    """Point Deskhand at the data directory and database, then start Django (env first)."""
    os.environ["DESKHAND_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "deskhand.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    for noisy in ("httpx", "httpcore"):  # one INFO line per request otherwise
        logging.getLogger(noisy).setLevel(logging.WARNING)


def database_vendor() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        version: int = connection.pg_version  # type: ignore[attr-defined]
        return f"PostgreSQL {version // 10000}.{version % 10000}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def addresses(count: int, domains: int, rng: random.Random) -> Iterator[tuple[str, str, bool]]:
    """(email, name, free_mail) for `count` distinct people."""
    for number in range(count):
        if rng.random() < FREE_MAIL_SHARE:
            yield f"person{number}@{rng.choice(FREE_MAIL)}", f"Person {number}", True
        else:
            yield f"person{number}@co{rng.randrange(domains)}.example", f"Person {number}", False


# -- phase 1: load -------------------------------------------------------------------------------


def load(report: Report, rng: random.Random) -> Any:
    """Create the admin agent and the customers; returns the admin."""
    from deskhand.agents.services import create_agent
    from deskhand.core.actors import SYSTEM
    from deskhand.customers.models import Customer, Organization, Source
    from deskhand.customers.services import find_or_create_customer

    if Customer.objects.exists():
        raise SystemExit("The database already holds customers; give an empty one.")
    admin = create_agent("bench-admin@deskhand.example", name="Bench Admin", is_admin=True, actor=SYSTEM)

    started = time.perf_counter()
    window = started
    people = addresses(report.customers, report.domains, rng)
    for number, (email, name, free_mail) in enumerate(people, start=1):
        source = Source.EMAIL if free_mail else Source.CSV
        _customer, created = find_or_create_customer(email, name=name, source=source, actor=SYSTEM)
        if not created:
            raise SystemExit(f"{email} already existed: the generator repeats addresses.")
        if number % PROGRESS_EVERY == 0:
            now = time.perf_counter()
            print(f"  {number:>7} customers  {now - started:7.1f} s  "
                  f"({PROGRESS_EVERY / (now - window):6.0f}/s over the last {PROGRESS_EVERY})", flush=True)
            window = now
    report.load_seconds = round(time.perf_counter() - started, 1)
    report.customers_per_second = round(report.customers / report.load_seconds, 1)

    from django.db.models import Count

    report.organizations = Organization.objects.count()
    report.customers_without_organization = Customer.objects.filter(organization__isnull=True).count()
    biggest = (
        Customer.objects.filter(organization__isnull=False).values("organization")
        .annotate(n=Count("id")).order_by("-n").first()
    )
    report.largest_organization = biggest["n"] if biggest else 0
    return admin


def analyze(report: Report) -> None:
    """Refresh the planner's statistics, as autovacuum (PostgreSQL) would have done by now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    report.analyzed = True


def autovacuum_setting() -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        return "n/a"
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        row = cursor.fetchone()
    return str(row[0]) if row else "?"


# -- phase 2: HTTP -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(data_dir: Path) -> Iterator[str]:
    """`deskhand serve` on a free local port, with this process's environment; yields the base URL."""
    import httpx
    from django.db import connections

    connections.close_all()  # leave the database to the server (SQLite: one writer)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = data_dir / "serve.log"
    command = [str(Path(sys.executable).parent / "deskhand"), "serve", "--addr", f"127.0.0.1:{port}"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
                                   cwd=ROOT)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"deskhand serve exited with {process.returncode}; see {log_path}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"deskhand serve gave no /healthz in {SERVER_START_TIMEOUT:.0f} s")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def timed(client: Any, latency: Latency | None, method: str, url: str, expect: int, **kwargs: Any) -> Any:
    started = time.perf_counter()
    response = client.request(method, url, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != expect:
        raise SystemExit(f"{method} {url} answered {response.status_code}: {response.text[:300]}")
    if latency is not None:
        latency.samples_ms.append(elapsed)
    return response


class Traffic:
    """The request mix: new customers (mostly at existing domains) and organization lists."""

    def __init__(self, rng: random.Random, domains: int, organization_ids: list[int]) -> None:
        self.rng = rng
        self.domains = domains
        self.organization_ids = organization_ids
        self.counter = 0
        self.last_was_new_domain = False

    def new_customer(self) -> dict[str, str]:
        """A new address: 80 % at an existing company domain, 20 % at a new one (a new organization)."""
        self.counter += 1
        self.last_was_new_domain = self.rng.random() >= 0.8
        if self.last_was_new_domain:
            domain = f"new{self.counter}.example"
        else:
            domain = f"co{self.rng.randrange(self.domains)}.example"
        return {"email": f"api{self.counter}@{domain}", "name": f"Api Person {self.counter}"}

    def organization_url(self) -> str:
        return f"/api/v1/customers?organization={self.rng.choice(self.organization_ids)}&page_size=50"


NONE_URL = "/api/v1/customers?organization=none&page_size=50"


def measure_http(report: Report, base: str, token: str, traffic: Traffic, requests: int) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    post = Latency("POST /api/v1/customers")
    post_existing = Latency("  of which: at an existing organization's domain")
    post_new = Latency("  of which: at a new domain (auto-creates an organization)")
    listing = Latency("GET /api/v1/customers?organization=<id>&page_size=50")
    unassigned = Latency("GET /api/v1/customers?organization=none&page_size=50 (extra)")
    with httpx.Client(base_url=base, headers=headers, timeout=REQUEST_TIMEOUT) as client:
        for _ in range(WARMUP):
            timed(client, None, "POST", "/api/v1/customers", 201, json=traffic.new_customer())
            timed(client, None, "GET", traffic.organization_url(), 200)
        for _ in range(requests):
            timed(client, post, "POST", "/api/v1/customers", 201, json=traffic.new_customer())
            (post_new if traffic.last_was_new_domain else post_existing).samples_ms.append(post.samples_ms[-1])
        for _ in range(requests):
            response = timed(client, listing, "GET", traffic.organization_url(), 200)
        body = response.json()
        if not body["items"] or body["count"] < len(body["items"]):
            raise SystemExit(f"Unexpected organization list: {str(body)[:300]}")
        for _ in range(max(1, requests // 5)):
            timed(client, unassigned, "GET", NONE_URL, 200)
    report.latencies = [
        latency.summary() for latency in (post, post_existing, post_new, listing, unassigned) if latency.samples_ms
    ]


# -- phase 3: SQL per request --------------------------------------------------------------------


class SqlRecorder:
    """A `connection.execute_wrapper` that times every statement (perf_counter, not DEBUG's ms)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, float]] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, (time.perf_counter() - started) * 1000))


def profile_queries(report: Report, token: str, traffic: Traffic, requests: int = 50) -> None:
    """The same calls in-process, with every SQL statement timed."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("POST /api/v1/customers",
         lambda: client.post("/api/v1/customers", traffic.new_customer(), content_type="application/json")),
        ("GET ?organization=<id>", lambda: client.get(traffic.organization_url())),
        ("GET ?organization=none", lambda: client.get(NONE_URL)),
    ]
    for name, call in calls:
        call()  # warm caches and the connection
        recorder = SqlRecorder()
        started = time.perf_counter()
        with connection.execute_wrapper(recorder):
            for _ in range(requests):
                response = call()
                if response.status_code >= 400:
                    raise SystemExit(f"{name} answered {response.status_code}: {response.content[:300]!r}")
        wall_ms = (time.perf_counter() - started) * 1000 / requests
        per_statement: dict[str, list[float]] = {}
        for sql, ms in recorder.statements:
            per_statement.setdefault(shape(sql), []).append(ms)
        ranked = sorted(per_statement.items(), key=lambda item: -sum(item[1]))
        report.queries.append(QueryProfile(
            call=name, requests=requests, queries_per_request=round(len(recorder.statements) / requests, 1),
            sql_ms_per_request=round(sum(ms for _, ms in recorder.statements) / requests, 2),
            wall_ms_per_request=round(wall_ms, 2),
            statements=[
                {"sql": sql, "per_request": round(len(times) / requests, 2),
                 "mean_ms": round(sum(times) / len(times), 3), "max_ms": round(max(times), 3)}
                for sql, times in ranked
            ],
        ))


def shape(sql: str) -> str:
    """A statement, short: no quotes, no column list, literal numbers as N (so that repeats group)."""
    text = " ".join(sql.replace('"', "").split())
    text = re.sub(r"^SELECT (?!COUNT\().*? FROM ", "SELECT … FROM ", text)
    text = re.sub(r"SAVEPOINT \w+", "SAVEPOINT sN", text)
    text = re.sub(r"^INSERT INTO (\S+) \(.*?\) VALUES \(.*?\)", r"INSERT INTO \1 (…) VALUES (…)", text)
    return re.sub(r"\b\d+\b", "N", text)[:400]


# -- output --------------------------------------------------------------------------------------


def print_report(report: Report, *, statements: int) -> None:
    machine = report.machine
    print()
    print(f"Deskhand customers benchmark — {report.database}, started {report.date}")
    print(f"  machine: {machine['cpus']} CPUs, {machine['platform']}, Python {machine['python']}")
    print(f"  load: {report.customers} customers over {report.domains} domains in {report.load_seconds} s "
          f"= {report.customers_per_second} customers/s")
    print(f"  statistics: ANALYZE after load: {'yes' if report.analyzed else 'no'}; "
          f"autovacuum: {report.autovacuum}")
    print(f"  organizations: {report.organizations}; in \"No organization\": "
          f"{report.customers_without_organization}; largest organization: {report.largest_organization}")
    print()
    print(f"  {'HTTP round-trip (one keep-alive client)':<62} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8}")
    for row in report.latencies:
        print(f"  {row['call']:<62} {row['n']:>5} {row['p50_ms']:>8} {row['p95_ms']:>8} "
              f"{row['p99_ms']:>8} {row['max_ms']:>8}")
    print()
    print(f"  {'in-process (Django test client)':<32} {'queries':>8} {'SQL ms':>8} {'total ms':>9}"
          "  (per request)")
    for profile in report.queries:
        print(f"  {profile.call:<32} {profile.queries_per_request:>8} {profile.sql_ms_per_request:>8} "
              f"{profile.wall_ms_per_request:>9}")
        for row in profile.statements[:statements]:
            print(f"      {row['per_request']:>5}x {row['mean_ms']:>7.3f} ms  {row['sql'][:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--domains", type=int, default=10_000)
    parser.add_argument("--database-url", default="", help="default: SQLite in the temporary data directory")
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per call")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--analyze", action="store_true",
                        help="run ANALYZE after loading (what autovacuum does; without it a server with "
                        "autovacuum off plans the lists with no statistics)")
    parser.add_argument("--statements", type=int, default=3, help="SQL statements shown per call")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args()
    if args.customers < 1 or args.domains < 1 or args.requests < 1:
        parser.error("--customers, --domains and --requests are at least 1")

    data_dir = Path(tempfile.mkdtemp(prefix="deskhand-bench-"))
    database_url = args.database_url or f"sqlite:///{data_dir / 'deskhand.sqlite3'}"
    try:
        configure(data_dir, database_url)
        report = Report(database=database_vendor(), customers=args.customers, domains=args.domains,
                        seed=args.seed, date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                        machine={"cpus": os.cpu_count(), "platform": platform.platform(),
                                 "python": platform.python_version()})
        rng = random.Random(args.seed)
        print(f"Phase 1: loading {args.customers} customers into {report.database} ({data_dir})", flush=True)
        admin = load(report, rng)
        report.autovacuum = autovacuum_setting()
        if args.analyze:
            print("  ANALYZE", flush=True)
            analyze(report)

        from deskhand.agents.services import issue_token
        from deskhand.core.actors import SYSTEM
        from deskhand.customers.models import Organization

        _token, plain = issue_token(admin, name="bench", actor=SYSTEM)
        organization_ids = list(Organization.objects.values_list("pk", flat=True))
        traffic = Traffic(rng, args.domains, organization_ids)
        print(f"Phase 2: HTTP against deskhand serve ({WARMUP} warm-up + {args.requests} requests per call)",
              flush=True)
        with running_server(data_dir) as base:
            measure_http(report, base, plain, traffic, args.requests)
        print("Phase 3: SQL per request, in-process", flush=True)
        profile_queries(report, plain, traffic)
        print_report(report, statements=args.statements)
        if args.json:
            payload = asdict(report)
            args.json.write_text(json.dumps(payload, indent=2) + "\n")
            print(f"\n  figures written to {args.json}")
    finally:
        if args.keep:
            print(f"  data directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
