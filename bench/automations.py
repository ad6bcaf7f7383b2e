"""Issue 13's automation figures on SQLite, in-process (Django's test client, no HTTP):

- `POST /api/v1/tickets` with the automations applied, p50/p95, with 200 automations (general rules
  whose conditions do not hold) and 10 000 organizations each with a routing section, against the
  same request with no automations at all;
- the time-based sweep: one tick of an `elapsed` rule over 200 000 open tickets (`--items`), when
  1 000 of them are due and when none is.

    .venv/bin/python bench/automations.py [--items 200000] [--organizations 10000] [--requests 300]

A fresh data directory under /tmp each run (kept with --keep). Figures go to bench/README.md."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--organizations", type=int, default=10_000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-automations-"))
    os.environ["DESKHAND_DATA_DIR"] = str(data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskhand.settings")
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
        else:
            print(f"data directory kept: {data}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def post_tickets(client: object, token: str, count: int, domains: list[str]) -> tuple[float, float]:
    timings = []
    for number in range(count):
        domain = domains[number % len(domains)]
        started = time.perf_counter()
        response = client.post("/api/v1/tickets", {"title": f"Printer {number}",  # type: ignore[attr-defined]
                                                    "requester_email": f"user{number}@{domain}"},
                               content_type="application/json", headers={"Authorization": f"Bearer {token}"})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.content
    return statistics.median(timings), percentile(timings, 0.95)


def run(args: argparse.Namespace) -> None:
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from deskhand.agents.services import create_agent, issue_token
    from deskhand.automations.models import Automation
    from deskhand.automations.rules import (
        Action,
        ActionType,
        Condition,
        ItemKind,
        Op,
        Rule,
        Since,
        Trigger,
        TriggerType,
    )
    from deskhand.automations.services import create_automation
    from deskhand.automations.stored import rule_json
    from deskhand.automations.sweep import sweep_elapsed
    from deskhand.core.actors import SYSTEM, Actor
    from deskhand.customers.models import Organization, OrganizationDomain, Source
    from deskhand.work.models import Item, Status
    from deskhand.work.services.statuses import ensure_default_workflow

    ensure_default_workflow()
    admin = create_agent("admin@bench.test", name="Admin", password="x" * 12, is_admin=True, actor=SYSTEM)
    token = issue_token(admin, name="bench", actor=SYSTEM)[1]
    client = Client()
    domains = [f"org{n}.example" for n in range(args.organizations)]
    warm = post_tickets(client, token, 20, ["warmup.example"])
    bare = post_tickets(client, token, args.requests, [f"bare{n}.example" for n in range(args.requests)])
    print(f"POST /tickets, no automations: p50 {bare[0]:.1f} ms, p95 {bare[1]:.1f} ms (warm-up {warm[1]:.1f})")

    started = time.perf_counter()
    with transaction.atomic():
        organizations = Organization.objects.bulk_create(
            [Organization(name=f"Org {n}", source=Source.AGENT) for n in range(args.organizations)])
        OrganizationDomain.objects.bulk_create(
            [OrganizationDomain(organization=o, domain=d) for o, d in zip(organizations, domains, strict=True)])
        rows = []
        for position, organization in enumerate(organizations):
            rule = Rule(f"Routing: {organization.name}", ItemKind.TICKET, Trigger(TriggerType.CREATED),
                        all=(Condition("organization", Op.IS, organization.pk),),
                        actions=(Action(ActionType.SET_PRIORITY, value="high"),))
            stored = rule_json(rule)
            rows.append(Automation(name=rule.name, item_kind="ticket", trigger=stored["trigger"],
                                   conditions=stored["conditions"], actions=stored["actions"], position=position,
                                   organization=organization, routing=True))
        Automation.objects.bulk_create(rows)
    for number in range(args.rules):
        create_automation(Rule(f"Rule {number}", ItemKind.TICKET, Trigger(TriggerType.CREATED),
                               all=(Condition("title", Op.CONTAINS, f"never-{number}"),),
                               actions=(Action(ActionType.SET_PRIORITY, value="urgent"),)), actor=Actor.agent(admin))
    print(f"{args.organizations} routing sections and {args.rules} rules loaded in {time.perf_counter() - started:.1f} s")
    routed = post_tickets(client, token, args.requests, domains[-args.requests:])
    assert Item.objects.filter(priority=30).count() >= args.requests, "the routing did not run"
    print(f"POST /tickets, {args.rules} rules + {args.organizations} routing sections: "
          f"p50 {routed[0]:.1f} ms, p95 {routed[1]:.1f} ms (target p95 < 30 ms)")

    # The sweep: open tickets, 1 000 of them due for "2 days after the last customer message".
    status = Status.objects.get(kind="ticket", key="open")
    now = timezone.now()
    old = now - timezone.timedelta(days=3)
    recent = now - timezone.timedelta(hours=1)
    started = time.perf_counter()
    batch = 5_000
    for start in range(0, args.items, batch):
        Item.objects.bulk_create([Item(kind="ticket", title=f"T{n}", status=status, priority=20,
                                       last_customer_message_at=old if n < 1_000 else recent, status_changed_at=recent)
                                  for n in range(start, min(args.items, start + batch))])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"{args.items} open tickets loaded in {time.perf_counter() - started:.1f} s")
    create_automation(Rule("Nudge after two days", ItemKind.TICKET,
                           Trigger(TriggerType.ELAPSED, since=Since.LAST_CUSTOMER_MESSAGE, minutes=2 * 24 * 60),
                           all=(Condition("status", Op.IS, "open"),),
                           actions=(Action(ActionType.NOTE, body="Two days without an answer."),)),
                      actor=Actor.agent(admin))
    ticks = []
    fired = 0
    while True:
        started = time.perf_counter()
        outcomes = sweep_elapsed(now=now)
        ticks.append(time.perf_counter() - started)
        fired += len(outcomes)
        if len(outcomes) < 500:
            break
    started = time.perf_counter()
    again = sweep_elapsed(now=now + timezone.timedelta(seconds=5))
    idle = time.perf_counter() - started
    print(f"sweep over {args.items} open tickets: {fired} fired in {len(ticks)} ticks "
          f"({', '.join(f'{t:.2f}' for t in ticks)} s); the next tick with nothing due: {idle * 1000:.0f} ms "
          f"({len(again)} fired) (target < 5 s)")


if __name__ == "__main__":
    main()
