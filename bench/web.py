"""Benchmark: the agents' web pages at 100 000 customers in 10 000 organizations.

    .venv/bin/python bench/web.py [--customers 100000] [--organizations 10000] [--database-url URL] [--json FILE]

The issue's targets: the Customers page and an organization profile render in p95 < 150 ms
server time; a drag-and-drop move takes p95 < 50 ms.

1. Load: the same data set as bench/customers.py (its functions are reused): N customers through
   `find_or_create_customer`, ~85 % at company domains `co{k}.example` (k uniform over
   --organizations domains; the domain rule creates one organization per domain), ~15 % at free
   mail ("No organization"). On PostgreSQL, ANALYZE afterwards (autovacuum may be off).
2. HTTP: `deskhand serve` on a free 127.0.0.1 port; one keep-alive httpx client signs in through
   /login like a browser (csrftoken cookie, then the form) and sends sequential requests:
   `GET /customers?page=<random>`, `GET /customers/groups/<random organization>`,
   `GET /organizations/<random>`, `GET /customers?q=<term>` and the drag-and-drop call
   `POST /customers/<random>/move` (HX-Request: true, X-CSRFToken, organization=<id or none>).
   The client round-trip (p50/p95/p99/max) bounds the server time from above.
3. Queries: the same pages in-process (Django test client, force_login), each SQL statement
   captured (`CaptureQueriesContext`) and timed: queries per request (min/max over different
   pages, organizations and group sizes, to show that the count does not grow with the data),
   SQL time and total time per request, and the costliest statements; then the Customers page
   by page number (first, middle, last).

A fresh temporary data directory is used (removed at the end unless --keep); the database must be
empty. With no --database-url, SQLite in that directory. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# bench/customers.py, importable because this script's directory is first on sys.path.
from customers import (
    PROGRESS_EVERY,
    Latency,
    SqlRecorder,
    addresses,
    autovacuum_setting,
    configure,
    database_vendor,
    running_server,
    timed,
)

ADMIN_EMAIL = "bench-web@deskhand.example"
ADMIN_PASSWORD = "bench-web-password-1"  # a throwaway agent in a throwaway database
WARMUP = 20
PROFILE_REQUESTS = 30
SWEEP_REQUESTS = 10
REQUEST_TIMEOUT = 30.0
MOVE_TO_NONE_SHARE = 0.1
SEARCH_KINDS = ("address", "domain", "name", "no match")

# call -> (target p95 in ms, what it is)
CALLS: dict[str, tuple[float | None, str]] = {
    "GET /customers?page=<n>": (150, "Customers page (issue)"),
    "GET /organizations/<id>": (150, "organization profile (issue)"),
    "POST /customers/<id>/move": (50, "drag-and-drop move (issue)"),
    "GET /customers/groups/<id>": (150, "opening a group on the Customers page"),
    "GET /customers/groups/none": (150, "opening No organization (first 25 of ~15 000)"),
    "GET /customers?q=<term>": (150, "Customers page with a search"),
}


@dataclass
class Data:
    """What the HTTP and in-process phases pick their targets from."""

    organization_ids: list[int]
    customer_ids: list[int]
    pages: int
    smallest_organization: int
    largest_organization: int
    customer_numbers: int
    domains: int


@dataclass
class Report:
    database: str
    customers: int
    domains: int
    seed: int
    requests: int
    load_seconds: float = 0.0
    customers_per_second: float = 0.0
    organizations: int = 0
    customers_without_organization: int = 0
    largest_organization: int = 0
    customers_page_count: int = 0
    analyzed: bool = False
    autovacuum: str = ""
    latencies: list[dict[str, Any]] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)
    page_sweep: list[dict[str, Any]] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    date: str = ""


# -- phase 1: load -------------------------------------------------------------------------------


def load(report: Report, rng: random.Random) -> Any:
    """The admin agent (with a password, to sign in) and the customers; returns the admin."""
    from django.db.models import Count

    from deskhand.agents.services import create_agent
    from deskhand.core.actors import SYSTEM
    from deskhand.customers.models import Customer, Organization, Source
    from deskhand.customers.services import find_or_create_customer

    if Customer.objects.exists():
        raise SystemExit("The database already holds customers; give an empty one.")
    admin = create_agent(ADMIN_EMAIL, name="Bench Web", password=ADMIN_PASSWORD, is_admin=True, actor=SYSTEM)
    started = window = time.perf_counter()
    for number, (email, name, free_mail) in enumerate(addresses(report.customers, report.domains, rng), start=1):
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
    report.organizations = Organization.objects.count()
    report.customers_without_organization = Customer.objects.filter(organization__isnull=True).count()
    biggest = (Customer.objects.filter(organization__isnull=False).values("organization")
               .annotate(n=Count("id")).order_by("-n").first())
    report.largest_organization = biggest["n"] if biggest else 0
    return admin


def analyze(report: Report) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    report.analyzed = True


def targets(report: Report) -> Data:
    from django.db.models import Count

    from deskhand.customers.models import Customer, Organization
    from deskhand.web.views.customers import GROUP_PAGE

    sizes = list(Organization.objects.annotate(n=Count("customers")).order_by("n", "pk").values_list("pk", "n"))
    if not sizes:
        raise SystemExit("No organizations were created; use more customers or domains.")
    pages = max(1, -(-len(sizes) // GROUP_PAGE))
    report.customers_page_count = pages
    return Data(
        organization_ids=[pk for pk, _ in sizes],
        customer_ids=list(Customer.objects.values_list("pk", flat=True)),
        pages=pages,
        smallest_organization=sizes[0][0],
        largest_organization=sizes[-1][0],
        customer_numbers=report.customers,
        domains=report.domains,
    )


# -- the request mix -----------------------------------------------------------------------------


class Traffic:
    """Random pages, organizations, search terms and moves (seeded)."""

    def __init__(self, rng: random.Random, data: Data) -> None:
        self.rng = rng
        self.data = data
        self.last_search_kind = ""

    def customers_page(self) -> str:
        return f"/customers?page={self.rng.randint(1, self.data.pages)}"

    def organization(self) -> int:
        return self.rng.choice(self.data.organization_ids)

    def group(self) -> str:
        return f"/customers/groups/{self.organization()}"

    def profile(self) -> str:
        return f"/organizations/{self.organization()}"

    def search(self) -> str:
        """One of four kinds, in turn: an address, a company domain, a name prefix, nothing."""
        kind = SEARCH_KINDS[self.rng.randrange(len(SEARCH_KINDS))]
        self.last_search_kind = kind
        number = self.rng.randrange(self.data.customer_numbers)
        term = {
            "address": f"person{number}@",  # one customer
            "domain": f"co{self.rng.randrange(self.data.domains)}.example",  # one organization's ~9
            "name": f"Person {number // 10}",  # 11-111 customers, the page shows 100
            "no match": f"nobody-{number}",  # no customer: the whole table is searched
        }[kind]
        return f"/customers?q={term.replace(' ', '+').replace('@', '%40')}"

    def move(self) -> tuple[str, dict[str, str]]:
        customer = self.rng.choice(self.data.customer_ids)
        to = "none" if self.rng.random() < MOVE_TO_NONE_SHARE else str(self.organization())
        return f"/customers/{customer}/move", {"organization": to}


# -- phase 2: HTTP -------------------------------------------------------------------------------


def sign_in(client: Any) -> str:
    """Like a browser: the sign-in form sets csrftoken, posting it returns the session cookie."""
    page = client.get("/login")
    if page.status_code != 200 or "csrftoken" not in client.cookies:
        raise SystemExit(f"GET /login answered {page.status_code} without a csrftoken cookie")
    response = client.post("/login", data={
        "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"],
    }, headers={"Referer": f"{client.base_url}login"})
    if response.status_code != 302 or "sessionid" not in client.cookies:
        raise SystemExit(f"POST /login answered {response.status_code}: {response.text[:300]}")
    return str(client.cookies["csrftoken"])  # rotated at sign-in


def measure_http(report: Report, base: str, traffic: Traffic, requests: int) -> None:
    import httpx

    latencies = {name: Latency(name) for name in CALLS}
    by_kind = {kind: Latency(f"  of which q = {kind}") for kind in SEARCH_KINDS}
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as client:
        csrf = sign_in(client)
        htmx = {"HX-Request": "true"}

        def move(latency: Latency | None) -> Any:
            url, form = traffic.move()
            return timed(client, latency, "POST", url, 200, data=form, headers=htmx | {"X-CSRFToken": csrf})

        calls: dict[str, Callable[[Latency | None], Any]] = {
            "GET /customers?page=<n>": lambda lat: timed(client, lat, "GET", traffic.customers_page(), 200),
            "GET /organizations/<id>": lambda lat: timed(client, lat, "GET", traffic.profile(), 200),
            "POST /customers/<id>/move": move,
            "GET /customers/groups/<id>": lambda lat: timed(client, lat, "GET", traffic.group(), 200, headers=htmx),
            "GET /customers/groups/none": lambda lat: timed(client, lat, "GET", "/customers/groups/none", 200,
                                                            headers=htmx),
            "GET /customers?q=<term>": lambda lat: timed(client, lat, "GET", traffic.search(), 200),
        }
        for _ in range(WARMUP):
            for call in calls.values():
                call(None)
        for name, call in calls.items():
            count = requests if name != "GET /customers/groups/none" else max(1, requests // 5)
            for _ in range(count):
                response = call(latencies[name])
                if name == "GET /customers?q=<term>":
                    by_kind[traffic.last_search_kind].samples_ms.append(latencies[name].samples_ms[-1])
            check_response(name, response)
    rows = []
    for name, latency in latencies.items():
        rows.append(latency.summary() | {"target_p95_ms": CALLS[name][0], "what": CALLS[name][1]})
        if name == "GET /customers?q=<term>":
            rows += [kind.summary() for kind in by_kind.values() if kind.samples_ms]
    report.latencies = rows


def check_response(name: str, response: Any) -> None:
    """The last response of each call, so that a redirect to /login or an empty page is noticed."""
    if name == "POST /customers/<id>/move":
        if "deskhand:moved" not in response.headers.get("HX-Trigger", ""):
            raise SystemExit(f"The move answered without HX-Trigger deskhand:moved: {dict(response.headers)}")
        return
    expected = {
        "GET /customers?page=<n>": 'class="group"',
        "GET /organizations/<id>": "Members",
        "GET /customers/groups/<id>": 'class="customer"',
        "GET /customers/groups/none": 'class="customer"',
        "GET /customers?q=<term>": "match",
    }[name]
    if expected not in response.text:
        raise SystemExit(f"{name}: the last page lacks {expected!r}: {response.text[:300]}")


# -- phase 3: queries per page, in-process -------------------------------------------------------


def profile_queries(report: Report, admin: Any, traffic: Traffic, data: Data, requests: int) -> None:
    """Each page in-process, every statement captured: the count must not depend on the data."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(admin)
    htmx = {"HTTP_HX_REQUEST": "true"}

    def move() -> Any:
        url, form = traffic.move()
        return client.post(url, form, **htmx)

    def urls(fixed: list[str], pick: Callable[[], str]) -> Callable[[int], str]:
        """The fixed extremes first (first/last page, smallest/largest group), then random ones."""
        return lambda i: fixed[i] if i < len(fixed) else pick()

    small, large = data.smallest_organization, data.largest_organization
    none_offset = max(0, report.customers_without_organization - 30)
    gets: dict[str, Callable[[int], str]] = {
        "GET /customers?page=<n>": urls(["/customers", f"/customers?page={data.pages}"], traffic.customers_page),
        "GET /organizations/<id>": urls([f"/organizations/{small}", f"/organizations/{large}"], traffic.profile),
        "GET /customers/groups/<id>": urls([f"/customers/groups/{small}", f"/customers/groups/{large}"],
                                           traffic.group),
        "GET /customers/groups/none": urls([f"/customers/groups/none?offset={none_offset}"],
                                           lambda: "/customers/groups/none"),
        "GET /customers?q=<term>": urls([], traffic.search),
    }
    calls: dict[str, Callable[[int], Any]] = {
        name: (lambda i, pick=pick, extra=(htmx if "groups" in name else {}): client.get(pick(i), **extra))
        for name, pick in gets.items()
    }
    calls["POST /customers/<id>/move"] = lambda _i: move()
    for name in CALLS:
        call = calls[name]
        call(0)  # warm the caches and the connection
        counts: list[int] = []
        recorder = SqlRecorder()
        started = time.perf_counter()
        with connection.execute_wrapper(recorder):
            for i in range(requests):
                with CaptureQueriesContext(connection) as captured:
                    response = call(i)
                if response.status_code != 200:
                    raise SystemExit(f"{name} answered {response.status_code}: {response.content[:300]!r}")
                counts.append(len(captured.captured_queries))
        wall_ms = (time.perf_counter() - started) * 1000 / requests
        per_statement: dict[str, list[float]] = {}
        for sql, ms in recorder.statements:
            per_statement.setdefault(statement_shape(sql), []).append(ms)
        ranked = sorted(per_statement.items(), key=lambda item: -sum(item[1]))
        report.queries.append({
            "call": name, "requests": requests,
            "queries_min": min(counts), "queries_max": max(counts),
            "queries_distinct": sorted(set(counts)),
            "sql_ms_per_request": round(sum(ms for _, ms in recorder.statements) / requests, 2),
            "wall_ms_per_request": round(wall_ms, 2),
            "statements": [
                {"sql": sql, "per_request": round(len(times) / requests, 2),
                 "mean_ms": round(sum(times) / len(times), 3), "max_ms": round(max(times), 3)}
                for sql, times in ranked
            ],
        })


def page_sweep(report: Report, admin: Any, data: Data, requests: int) -> None:
    """The Customers page by page number (first, middle, last), in-process: any cost that grows
    with the page number (OFFSET) shows here."""
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(admin)
    for page in sorted({1, (data.pages + 1) // 2, data.pages}):
        url = f"/customers?page={page}"
        client.get(url)
        recorder = SqlRecorder()
        started = time.perf_counter()
        with connection.execute_wrapper(recorder):
            for _ in range(requests):
                if client.get(url).status_code != 200:
                    raise SystemExit(f"{url} failed")
        listing = [ms for sql, ms in recorder.statements if ORGANIZATION_TABLE in statement_shape(sql)]
        report.page_sweep.append({
            "page": page, "requests": requests,
            "wall_ms_per_request": round((time.perf_counter() - started) * 1000 / requests, 2),
            "sql_ms_per_request": round(sum(ms for _, ms in recorder.statements) / requests, 2),
            "organization_queries_ms_per_request": round(sum(listing) / requests, 2),
        })


ORGANIZATION_TABLE = "FROM customers_organization "  # the page of organizations and their count


def statement_shape(sql: str) -> str:
    """A statement, short: like bench/customers.py's `shape`, but the column list that is dropped
    ends at the outermost FROM, so that a subquery in the select list stays visible."""
    text = " ".join(sql.replace('"', "").split())
    if text.startswith("SELECT ") and not text.startswith("SELECT COUNT("):
        depth, cut = 0, -1
        for index, char in enumerate(text):
            depth += (char == "(") - (char == ")")
            if depth == 0 and text.startswith(" FROM ", index):
                cut = index
                break
        if cut > 0:
            subqueries = " (with a subquery)" if "(SELECT " in text[:cut] else ""
            text = f"SELECT …{subqueries}{text[cut:]}"
    text = re.sub(r"SAVEPOINT \w+", "SAVEPOINT sN", text)
    text = re.sub(r"^INSERT INTO (\S+) \(.*?\) VALUES \(.*?\)", r"INSERT INTO \1 (…) VALUES (…)", text)
    text = re.sub(r"IN \((%s, )+%s\)", "IN (…)", text)
    return re.sub(r"\b\d+\b", "N", text)[:400]


# -- output --------------------------------------------------------------------------------------


def verdict(row: dict[str, Any]) -> str:
    target = row.get("target_p95_ms")
    if target is None:
        return ""
    return f"< {target:g}: " + ("yes" if row["p95_ms"] < target else "NO")


def print_report(report: Report, *, statements: int) -> None:
    machine = report.machine
    print()
    print(f"Deskhand web pages benchmark — {report.database}, started {report.date}")
    print(f"  machine: {machine['cpus']} CPUs, {machine['platform']}, Python {machine['python']}")
    print(f"  load: {report.customers} customers over {report.domains} domains in {report.load_seconds} s "
          f"= {report.customers_per_second} customers/s")
    print(f"  organizations: {report.organizations} ({report.customers_page_count} pages on /customers); "
          f"in \"No organization\": {report.customers_without_organization}; "
          f"largest organization: {report.largest_organization}")
    print(f"  statistics: ANALYZE after load: {'yes' if report.analyzed else 'no'}; "
          f"autovacuum: {report.autovacuum}")
    print()
    print(f"  {'HTTP round-trip (one keep-alive client, sequential)':<52} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8}  target p95")
    for row in report.latencies:
        print(f"  {row['call']:<52} {row['n']:>5} {row['p50_ms']:>8} {row['p95_ms']:>8} "
              f"{row['p99_ms']:>8} {row['max_ms']:>8}  {verdict(row)}")
    print()
    print(f"  {'in-process (Django test client)':<32} {'queries':>9} {'SQL ms':>8} {'total ms':>9}  (per request)")
    for row in report.queries:
        spread = (str(row["queries_min"]) if row["queries_min"] == row["queries_max"]
                  else f"{row['queries_min']}-{row['queries_max']}")
        print(f"  {row['call']:<32} {spread:>9} {row['sql_ms_per_request']:>8} {row['wall_ms_per_request']:>9}")
        for statement in row["statements"][:statements]:
            print(f"      {statement['per_request']:>5}x {statement['mean_ms']:>7.3f} ms  {statement['sql'][:150]}")
    if report.page_sweep:
        print()
        print(f"  {'in-process, /customers?page=<n>':<32} {'total ms':>9} {'SQL ms':>8}  SQL ms on customers_organization")
        for row in report.page_sweep:
            print(f"  {'page ' + str(row['page']):<32} {row['wall_ms_per_request']:>9} {row['sql_ms_per_request']:>8}  "
                  f"{row['organization_queries_ms_per_request']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--organizations", type=int, default=10_000,
                        help="company domains; the domain rule makes one organization of each that is drawn")
    parser.add_argument("--database-url", default="", help="default: SQLite in the temporary data directory")
    parser.add_argument("--requests", type=int, default=500, help="measured requests per call")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--no-analyze", action="store_true",
                        help="skip ANALYZE after the load on PostgreSQL (it runs by default: with autovacuum "
                        "off the tables would have no statistics)")
    parser.add_argument("--statements", type=int, default=4, help="SQL statements shown per page")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args()
    if args.customers < 1 or args.organizations < 1 or args.requests < 1:
        parser.error("--customers, --organizations and --requests are at least 1")

    data_dir = Path(tempfile.mkdtemp(prefix="deskhand-bench-web-"))
    database_url = args.database_url or f"sqlite:///{data_dir / 'deskhand.sqlite3'}"
    try:
        configure(data_dir, database_url)
        report = Report(database=database_vendor(), customers=args.customers, domains=args.organizations,
                        seed=args.seed, requests=args.requests,
                        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                        machine={"cpus": os.cpu_count(), "platform": platform.platform(),
                                 "python": platform.python_version()})
        rng = random.Random(args.seed)
        print(f"Phase 1: loading {args.customers} customers into {report.database} ({data_dir})", flush=True)
        admin = load(report, rng)
        report.autovacuum = autovacuum_setting()
        if report.database.startswith("PostgreSQL") and not args.no_analyze:
            print("  ANALYZE", flush=True)
            analyze(report)
        data = targets(report)
        traffic = Traffic(rng, data)
        print(f"Phase 2: HTTP against deskhand serve ({WARMUP} warm-up rounds, then {args.requests} requests "
              "per call)", flush=True)
        with running_server(data_dir) as base:
            measure_http(report, base, traffic, args.requests)
        print(f"Phase 3: queries per page, in-process ({PROFILE_REQUESTS} requests per page)", flush=True)
        profile_queries(report, admin, traffic, data, PROFILE_REQUESTS)
        page_sweep(report, admin, data, SWEEP_REQUESTS)
        print_report(report, statements=args.statements)
        if args.json:
            args.json.write_text(json.dumps(asdict(report), indent=2) + "\n")
            print(f"\n  figures written to {args.json}")
    except BaseException:
        log = data_dir / "serve.log"  # removed with the data directory below: show why the server stopped
        if log.exists():
            print(f"--- last lines of {log}:", *log.read_text(errors="replace").splitlines()[-30:], sep="\n",
                  file=sys.stderr)
        raise
    finally:
        if args.keep:
            print(f"  data directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
