"""Issue 15's report figures: each report for a one-year period over 200 000 tickets, p50/p95.

    .venv/bin/python bench/reports.py [--tickets 200000] [--database-url URL] [--runs 20]
        [--data-dir DIR --reuse] [--keep] [--only NAME]

1. Load (bulk, seeded; the builders of bench/customers.py and bench/work.py): 20 agents through the
   services, 2 000 organizations and 20 000 customers, then the tickets spread evenly over the year
   before --now (2026-12-04) with the rows the work services would have written: the item (status
   of the seeded workflow, channel, organization = the requester's, `status_changed_at` = the solve
   for done tickets, and `first_response_at` / `solved_at` and their seconds as the services set them), one agent
   assigned to 85 %, the opening customer message, the first reply (90 % of the tickets, after 5
   minutes to 3 days), a second customer message and reply for a third of them. Then ANALYZE.
2. In-process, through deskhand.reports.queries (what the web page, CSV and API call): volume,
   response times and backlog for the last 365 days, each without grouping and per organization,
   agent and channel; one warm-up call, then --runs calls; p50/p95 in milliseconds.

A fresh temporary data directory each run (kept with --keep or --data-dir); PostgreSQL needs an
empty database. The machine may be shared: the 1-minute load average is printed with the figures."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# bench/customers.py and bench/work.py, importable because this script's directory is first on sys.path.
from customers import Latency, addresses, configure, database_vendor
from work import BATCH, CHANNEL_WEIGHTS, STATUS_WEIGHTS, analyze, explicit_timestamps, weighted

NOW = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)
AGENTS = 20
ORGANIZATIONS = 2_000
CUSTOMERS = 20_000
TICKETS_PER_BATCH = 5_000

def load(tickets: int, rng: random.Random) -> None:
    from django.db import transaction

    from deskhand.agents.services import create_agent
    from deskhand.core.actors import SYSTEM
    from deskhand.customers.models import Customer, Organization, Source
    from deskhand.work.models import Assignee, Item, Message, Status
    from deskhand.work.services.items import whole_seconds

    if Item.objects.exists():
        raise SystemExit("The database holds items already: give an empty one (or --reuse).")
    started = time.perf_counter()
    agents = [create_agent(f"agent{n}@bench.example", name=f"Agent {n}", actor=SYSTEM) for n in range(AGENTS)]
    organizations = Organization.objects.bulk_create(
        [Organization(name=f"co{n}.example", source=Source.AUTO) for n in range(ORGANIZATIONS)], batch_size=BATCH)
    org_ids = [o.pk for o in organizations]
    customers = []
    for email, name, free_mail in addresses(CUSTOMERS, ORGANIZATIONS, rng):
        domain = email.split("@", 1)[1]
        org = None if free_mail else org_ids[int(domain[2:].split(".")[0])]
        customers.append(Customer(email=email, email_key=email.lower(), domain=domain, name=name,
                                  organization_id=org, source=Source.EMAIL, custom_fields={}))
    Customer.objects.bulk_create(customers, batch_size=BATCH)
    people = list(Customer.objects.values_list("pk", "organization_id"))
    statuses = {s.key: s.pk for s in Status.objects.filter(kind="ticket")}
    pick_status, pick_channel = weighted(rng, STATUS_WEIGHTS), weighted(rng, CHANNEL_WEIGHTS)
    first = NOW - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / tickets
    print(f"  people: {time.perf_counter() - started:.1f} s", flush=True)
    for batch_start in range(0, tickets, TICKETS_PER_BATCH):
        items, assignees, messages = [], [], []
        for index in range(batch_start, min(tickets, batch_start + TICKETS_PER_BATCH)):
            created = first + step * index + dt.timedelta(seconds=rng.randrange(60))
            requester, org = rng.choice(people)
            status = pick_status()
            channel = pick_channel()
            replied = rng.random() < 0.9 or status == "done"
            reply_at = created + dt.timedelta(minutes=rng.randint(5, 3 * 24 * 60))
            solved = reply_at + dt.timedelta(minutes=rng.randint(10, 14 * 24 * 60)) if status == "done" else None
            if solved is not None and solved > NOW:
                solved = NOW
            agent = rng.choice(agents)
            item = Item(kind="ticket", title="Printer on fire", description="It is on fire.",
                        status_id=statuses[status], requester_id=requester, organization_id=org, channel=channel,
                        created_by_id=agent.pk if channel == "web" else None, created_at=created,
                        updated_at=solved or reply_at, status_changed_at=solved or created, solved_at=solved,
                        first_response_at=reply_at if replied and reply_at <= NOW else None, custom_fields={},
                        resolution_seconds=whole_seconds(solved - created) if solved else None,
                        first_response_seconds=whole_seconds(reply_at - created) if replied and reply_at <= NOW
                        else None)
            items.append(item)
            if rng.random() < 0.85 or status in ("open", "pending", "done"):
                assignees.append((item, agent))
            conversation = [("customer", created)]
            if replied and reply_at <= NOW:
                conversation.append(("reply", reply_at))
                if rng.random() < 0.33:
                    later = reply_at + dt.timedelta(hours=rng.randint(1, 48))
                    conversation += [("customer", later), ("reply", later + dt.timedelta(hours=rng.randint(1, 24)))]
            messages.append((item, agent, requester, conversation))
        with explicit_timestamps(Item, Message), transaction.atomic():
            Item.objects.bulk_create(items, batch_size=BATCH)
            Assignee.objects.bulk_create([Assignee(item=item, kind="ticket", agent=agent) for item, agent in assignees],
                                         batch_size=BATCH)
            Message.objects.bulk_create([
                Message(item=item, kind=kind, body="…", channel="web", created_at=at,
                        author_agent=agent if kind == "reply" else None,
                        author_customer_id=requester if kind == "customer" else None)
                for item, agent, requester, conversation in messages for kind, at in conversation], batch_size=BATCH)
        print(f"  {batch_start + len(items):>7} tickets  {time.perf_counter() - started:6.1f} s", flush=True)
    # VACUUM ANALYZE on PostgreSQL: what autovacuum would have done by now (this server runs with it
    # off); index-only scans need the visibility map it sets.
    print(f"  {analyze(vacuum=True)}: {time.perf_counter() - started:.1f} s in all", flush=True)


def measure(runs: int, only: str = "") -> list[dict[str, Any]]:
    from deskhand.reports.inputs import GroupBy, ReportPeriod
    from deskhand.reports.queries import backlog, response_times, volume

    period = ReportPeriod(NOW.date() - dt.timedelta(days=364), NOW.date(), "Europe/Berlin")
    results = []
    for name, report in (("volume", volume), ("response-times", response_times), ("backlog", backlog)):
        for group_by in GroupBy:
            if only and only not in f"{name} group_by={group_by.value}":
                continue
            latency = Latency(f"{name} group_by={group_by.value}")
            kept = Latency(f"{name} group_by={group_by.value} kept")
            report(period, group_by, fresh=True)  # warm-up
            for _ in range(runs):
                started = time.perf_counter()
                report(period, group_by, fresh=True)  # computed: what the first request of a minute pays
                latency.samples_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                report(period, group_by)  # kept: the page, its CSV and the API within REPORT_FRESH
                kept.samples_ms.append((time.perf_counter() - started) * 1000)
            summary, kept_summary = latency.summary(), kept.summary()
            results.append(summary)
            print(f"  {summary['call']:<36} computed p50 {summary['p50_ms']:7.1f} ms  p95 {summary['p95_ms']:7.1f} ms  "
                  f"max {summary['max_ms']:7.1f} ms · kept p50 {kept_summary['p50_ms']:5.2f} ms  "
                  f"p95 {kept_summary['p95_ms']:5.2f} ms", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--database-url", default="", help="default: SQLite in the data directory")
    parser.add_argument("--runs", type=int, default=20, help="0: load only")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--only", default="", help="the reports whose name contains this, e.g. `volume group_by=agent`")
    parser.add_argument("--data-dir", type=Path, help="use this data directory (kept)")
    parser.add_argument("--reuse", action="store_true", help="skip the load (a database loaded before)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="deskhand-bench-reports-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        configure(data_dir, args.database_url or f"sqlite:///{data_dir / 'deskhand.sqlite3'}")
        print(f"{database_vendor()}, {args.tickets} tickets, load average {os.getloadavg()[0]:.1f}", flush=True)
        if not args.reuse:
            load(args.tickets, random.Random(args.seed))
        if args.runs < 1:  # --runs 0: only load (with --data-dir, for later runs with --reuse)
            return
        results = measure(args.runs, args.only)
        worst = max(r["p95_ms"] for r in results)
        print(f"worst p95 {worst:.1f} ms (median of the p95s {statistics.median(r['p95_ms'] for r in results):.1f}), "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        if not (args.keep or args.data_dir):
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
