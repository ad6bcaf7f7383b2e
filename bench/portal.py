"""Issue 14's portal figures, in-process (Django's test client, no HTTP), on SQLite or PostgreSQL:

- 200 000 tickets (`--items`), 50 000 of them (`--organization-items`) of the organization Acme,
  the rest spread over 1 000 other organizations; a verified customer of Acme, visibility rule
  `organization`;
- `GET /portal/` (the first page of "All"), `GET /portal/?tab=mine`, `GET /portal/?q=…` and a
  request page: p50/p95 over `--requests` requests, and the SQL statements per page;
- registration to the first list: the server time of POST /portal/register, GET of the link from
  the mail and GET /portal/.

    .venv/bin/python bench/portal.py [--items 200000] [--organization-items 50000] [--requests 200]
        [--database-url postgres://postgres@127.0.0.1:5432/bench_portal]

A fresh data directory under /tmp each run; a PostgreSQL database named in the URL is dropped and
made anew. Figures go to bench/README.md."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--organization-items", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    os.environ["DESKHAND_DATA_DIR"] = str(data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskhand.settings")
    if args.database_url:
        base, _, name = args.database_url.rpartition("/")
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", f"{base}/postgres", "-qc", sql], check=True)
        os.environ["DATABASE_URL"] = args.database_url
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        run(args)
    finally:
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(client: object, path: str, count: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    statements = 0
    for number in range(count):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)  # type: ignore[attr-defined]
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        if number == 0:
            statements = len(queries)
    return statistics.median(times), percentile(times, 0.95), statements


def run(args: argparse.Namespace) -> None:
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from deskhand.accounts import services as accounts
    from deskhand.accounts.inputs import Registration
    from deskhand.config.services import update_settings
    from deskhand.core.actors import SYSTEM
    from deskhand.customers.models import Customer, Organization, OrganizationDomain, Source
    from deskhand.mail.models import OutboundMessage
    from deskhand.work.models import Follower, Item, Status
    from deskhand.work.services.statuses import ensure_default_workflow

    ensure_default_workflow()
    update_settings({"portal_visibility": "organization"}, actor=SYSTEM)
    started = time.perf_counter()
    status = Status.objects.get(kind="ticket", key="open")
    with transaction.atomic():
        organizations = Organization.objects.bulk_create(
            [Organization(name=f"Org {n}", source=Source.AGENT) for n in range(1000)])
        acme = Organization.objects.create(name="Acme", source=Source.AGENT)
        OrganizationDomain.objects.create(organization=acme, domain="acme.example")
        colleagues = Customer.objects.bulk_create([
            Customer(email=f"c{n}@acme.example", email_key=f"c{n}@acme.example", domain="acme.example",
                     organization=acme, source=Source.AGENT) for n in range(500)])
        others = Customer.objects.bulk_create([
            Customer(email=f"o{n}@org{n % 1000}.example", email_key=f"o{n}@org{n % 1000}.example",
                     domain=f"org{n % 1000}.example", organization=organizations[n % 1000], source=Source.AGENT)
            for n in range(5000)])
    registered = accounts.register(Registration(email="zoe@acme.example", name="Zoë", password="quiet-harbour-41"))
    zoe = Customer.objects.get(email_key="zoe@acme.example")
    link = re.search(r"https?://[^/\s]+(/portal/\S+)", OutboundMessage.objects.latest("id").body_text)
    assert link is not None
    accounts.verify(link.group(1).rstrip("/").rsplit("/", 1)[1], mark=registered.mark)
    now = timezone.now()
    batch = 5000
    for start in range(0, args.items, batch):
        rows = []
        for n in range(start, min(args.items, start + batch)):
            mine = n % 5000 == 0
            in_acme = n < args.organization_items
            requester = zoe if mine else colleagues[n % 500] if in_acme else others[n % 5000]
            rows.append(Item(kind="ticket", title=f"Ticket {n} printer" if n % 97 == 0 else f"Ticket {n}",
                             status=status, priority=20, requester=requester,
                             organization=acme if in_acme else requester.organization,
                             status_changed_at=now - timezone.timedelta(minutes=n)))
        Item.objects.bulk_create(rows)
    followed = list(Item.objects.filter(organization__in=organizations[:10]).values_list("pk", flat=True)[:50])
    Follower.objects.bulk_create([Follower(item_id=pk, customer=zoe) for pk in followed])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"{args.items} tickets ({args.organization_items} of Acme) loaded in {time.perf_counter() - started:.1f} s")

    client = Client()
    assert client.post("/portal/login", {"email": "zoe@acme.example", "password": "quiet-harbour-41"}).status_code == 302
    some = Item.objects.filter(organization=acme).order_by("-id").values_list("pk", flat=True)[1000]
    for label, path in [("list, All", "/portal/"), ("list, My requests", "/portal/?tab=mine"),
                        ("list, My organization", "/portal/?tab=organization"),
                        ("list, search", "/portal/?q=printer"), ("request page", f"/portal/requests/{some}")]:
        timed(client, path, 5)  # warm
        p50, p95, statements = timed(client, path, args.requests)
        print(f"{label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, {statements} statements (target p95 < 50 ms)")

    times = []
    for number in range(20):
        browser = Client(REMOTE_ADDR=f"10.0.{number}.1")  # each a visitor of their own (the per-client cap)
        email = f"new{number}@acme.example"
        started = time.perf_counter()
        browser.post("/portal/register", {"email": email, "name": "New", "password": "quiet-harbour-41"})
        mail = OutboundMessage.objects.filter(recipient_key=email).latest("id")
        found = re.search(r"https?://[^/\s]+(/portal/\S+)", mail.body_text)
        assert found is not None
        assert browser.get(found.group(1)).status_code == 302
        assert browser.get("/portal/").status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    print(f"registration to first list (register, link, list): p50 {statistics.median(times):.1f} ms, "
          f"p95 {percentile(times, 0.95):.1f} ms (target < 100 ms)")


if __name__ == "__main__":
    main()
