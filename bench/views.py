"""Issue 15's workspace figures, in-process (Django's test client, no HTTP), on SQLite or PostgreSQL:

- 200 000 tickets (`--items`) spread over a year: a quarter not done (new, open, pending), 70 % of
  them assigned to one of 20 agents, 30 % with an SLA clock (some at risk), a customer message on
  every ticket and a reply on most, the latest customer words within the last 30 days on 20 000;
- each built-in view and two saved views (one personal, one shared): the list page
  `GET /tickets?<view's query>&view=list` (50 rows with unread marks, last lines and the views
  beside it) and the view's sidebar count (`view_count`, as /tickets/views/counts runs it for each
  view): p50/p95 over `--requests` runs each, and the whole counts request.

    .venv/bin/python bench/views.py [--items 200000] [--requests 100]
        [--database-url postgres://postgres@127.0.0.1:5432/bench_views]

A fresh data directory under /tmp each run; a PostgreSQL database named in the URL is dropped and
made anew. Target (issue 15): every saved view and its sidebar count p95 < 50 ms. Figures go to
bench/README.md."""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--data-dir", type=Path, help="keep the data here; with --reuse, measure it again")
    parser.add_argument("--reuse", action="store_true", help="skip loading: the data directory holds it")
    parser.add_argument("--profile", action="store_true", help="print where one view's page spends its time")
    args = parser.parse_args()
    data = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-views-"))
    data.mkdir(parents=True, exist_ok=True)
    args.keep = args.keep or bool(args.data_dir)
    os.environ["DESKHAND_DATA_DIR"] = str(data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskhand.settings")
    if args.database_url and not args.reuse:
        base, _, name = args.database_url.rpartition("/")
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", f"{base}/postgres", "-qc", sql], check=True)
    if args.database_url:
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


def timed(call: Callable[[], object], count: int) -> tuple[float, float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def load(items: int) -> tuple[Any, list[Any]]:
    """The tickets, in bulk (the rows the services would have written), seeded: every run the same."""
    from django.db import connection, transaction
    from django.utils import timezone

    from deskhand.agents.services import create_agent
    from deskhand.core.actors import SYSTEM
    from deskhand.customers.models import Customer, Organization, Source
    from deskhand.sla.models import ItemSla, SlaPolicy
    from deskhand.work.models import Assignee, Item, Message, Status
    from deskhand.work.services.statuses import ensure_default_workflow

    rng = random.Random(20261204)
    ensure_default_workflow()
    statuses = {status.key: status for status in Status.objects.filter(kind="ticket")}
    agents = [create_agent(f"agent{n}@deskhand.test", password="quiet-harbour-41", name=f"Agent {n}", actor=SYSTEM)
              for n in range(20)]
    policy = SlaPolicy.objects.create(name="Standard")
    now = timezone.now()
    with transaction.atomic():
        organizations = Organization.objects.bulk_create(
            [Organization(name=f"Org {n}", source=Source.AGENT) for n in range(1000)])
        customers = Customer.objects.bulk_create([
            Customer(email=f"c{n}@org{n % 1000}.example", email_key=f"c{n}@org{n % 1000}.example",
                     domain=f"org{n % 1000}.example", organization=organizations[n % 1000], source=Source.AGENT)
            for n in range(20_000)])
    batch = 5000
    for start in range(0, items, batch):
        with transaction.atomic():
            rows = []
            for n in range(start, min(items, start + batch)):
                age = (items - n) / items * 365  # days: the newest tickets last
                created = now - timezone.timedelta(days=age, minutes=rng.randint(0, 600))
                not_done = age < 120 and rng.random() < 0.75 or rng.random() < 0.02
                key = rng.choice(("new", "open", "open", "pending")) if not_done else "done"
                requester = customers[rng.randrange(len(customers))]
                customer_at = (now - timezone.timedelta(days=rng.random() * 30) if n >= items - 20_000
                               else created + timezone.timedelta(hours=1))
                rows.append(Item(kind="ticket", title=f"Ticket {n}", status=statuses[key],
                                 priority=rng.choice((10, 20, 20, 20, 30, 40)), requester=requester,
                                 organization_id=requester.organization_id, channel="email",
                                 created_at=created, updated_at=max(created, customer_at),
                                 status_changed_at=created, last_customer_message_at=customer_at,
                                 last_agent_reply_at=created + timezone.timedelta(hours=rng.choice((0.5, 2, 30)))
                                 if rng.random() < 0.8 else None))
            made = Item.objects.bulk_create(rows)
            Item.objects.filter(pk__in=[item.pk for item in made]).update()  # auto_now: the dates stay as given
            assignees, messages, clocks = [], [], []
            for item in made:
                if rng.random() < 0.7:
                    assignees.append(Assignee(item=item, kind="ticket", agent=agents[rng.randrange(20)]))
                messages.append(Message(item=item, kind="customer", author_customer_id=item.requester_id,
                                        body=f"Hello, about {item.title}:\nit does not work.", channel="email"))
                if item.last_agent_reply_at is not None:
                    messages.append(Message(item=item, kind="reply", author_agent=agents[0], body="We are on it."))
                if rng.random() < 0.3:
                    due = now + timezone.timedelta(hours=rng.uniform(-48, 72))
                    clocks.append(ItemSla(item=item, policy=policy, started_at=item.created_at, resolution_due=due,
                                          at_risk_due=due - timezone.timedelta(hours=4),
                                          resolved_at=now if item.status.category == "done" else None))
            Assignee.objects.bulk_create(assignees)
            Message.objects.bulk_create(messages)
            ItemSla.objects.bulk_create(clocks)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return agents[3], agents


def make_views(me: Any, agents: list[Any]) -> None:
    from deskhand.core.actors import Actor
    from deskhand.work.inputs import ViewDraft
    from deskhand.work.services.workspace import save_view

    save_view(ViewDraft(kind="ticket", name="My urgent", query={"assignee": "me", "priority": "urgent,high",
                                                                "status": "category:new,open,pending"}),
              actor=Actor.agent(me))
    save_view(ViewDraft(kind="ticket", name="Org 7 open", query={"organization": "8", "status": "category:new,open",
                                                                 "sort": "-updated_at"}, shared=True),
              actor=Actor.agent(agents[0]))


def run(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test import Client

    from deskhand.agents.models import Agent
    from deskhand.work import workspace

    if args.reuse:
        agents: list[Any] = list(Agent.objects.filter(email__startswith="agent").order_by("id"))
        me: Any = agents[3]
    else:
        started = time.perf_counter()
        me, agents = load(args.items)
        print(f"{args.items} tickets loaded in {time.perf_counter() - started:.1f} s")
        make_views(me, agents)
    print(f"{connection.vendor}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    client = Client()
    assert client.post("/login", {"email": me.email, "password": "quiet-harbour-41"}).status_code == 302  # type: ignore[attr-defined]
    views = workspace.views_for(me.pk, "ticket")  # type: ignore[attr-defined]
    print(f"{'view':34} {'page p50':>9} {'page p95':>9} {'count p50':>10} {'count p95':>10} {'rows':>7} statements")
    worst = 0.0
    for view in views:
        path = f"/tickets?{urlencode({**view.query, 'view': 'list'})}"
        statements: list[str] = []
        with connection.execute_wrapper(lambda execute, sql, *rest: statements.append(sql) or execute(sql, *rest)):  # noqa: B023
            assert client.get(path).status_code == 200, path
        timed(lambda: client.get(path), 3)  # noqa: B023 - warm, then measure
        page50, page95 = timed(lambda: client.get(path), args.requests)  # noqa: B023
        count = workspace.view_count(view, "ticket", me=me.pk)  # type: ignore[attr-defined]
        count50, count95 = timed(lambda: workspace.view_count(view, "ticket", me=me.pk), args.requests)  # type: ignore[attr-defined]  # noqa: B023
        worst = max(worst, page95, count95)
        print(f"{view.name:34} {page50:8.1f}  {page95:8.1f}  {count50:9.1f}  {count95:9.1f}  {count:7d} {len(statements)}")
    if args.profile:
        import cProfile
        import pstats

        path = f"/tickets?{urlencode({**views[0].query, 'view': 'list'})}"
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [client.get(path) for _ in range(20)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    from django.core.cache import cache

    def cold() -> None:
        cache.clear()
        client.get("/tickets/views/counts", HTTP_HX_REQUEST="true")

    cold50, cold95 = timed(cold, args.requests)
    counts50, counts95 = timed(lambda: client.get("/tickets/views/counts", HTTP_HX_REQUEST="true"), args.requests)
    print(f"the sidebar's counts request ({len(views)} views): counted afresh p50 {cold50:.1f} ms, p95 {cold95:.1f} ms; "
          f"within the {workspace.COUNT_FRESH} s the counts are kept p50 {counts50:.1f} ms, p95 {counts95:.1f} ms")
    print(f"worst p95 of a view's page or count: {worst:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
