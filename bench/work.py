"""Benchmark: tickets at 200 000 tickets, 100 000 customers, 10 000 organizations, 1 000 000 messages.

    .venv/bin/python bench/work.py [--tickets 200000] [--customers 100000] [--organizations 10000]
        [--messages 1000000] [--database-url URL] [--json FILE]

The issue's targets (p95, on SQLite and on PostgreSQL): a ticket list (any filter, 50 rows) < 50 ms,
an item page < 100 ms, creating a ticket with a new customer < 30 ms.

1. Load (bulk): agents, teams, portfolios, projects and folders go through the services (a few hundred
   rows). The background goes in with `bulk_create`, in batches, one transaction per batch, and holds
   the rows the services would have written: organizations `co{k}.example` with their
   OrganizationDomain, customers filed by domain (~15 % at free mail, in "No organization"), tickets
   with the seeded workflow statuses, priority, channel, requester, organization = the requester's,
   some in a project and folder, Assignee rows, the requester (and a few others) as Follower rows,
   ~5 messages per ticket (customer messages, replies with their recipients, notes; a few attachments),
   time entries, and the audit rows of all of it (customer/organization created, ticket created and
   updated, one per message, time logged). Seeded: every run loads the same data. Then ANALYZE.
   (Not loaded: the outbox rows of past replies, which no measured call reads.)
2. HTTP: `deskhand serve` on a free 127.0.0.1 port, one keep-alive httpx client, sequential requests
   with an API token: `GET /api/v1/tickets?page_size=50` with each filter alone and combined,
   `GET /api/v1/tickets/{id}` and `/messages` (the item page as the API serves it), the agents' web
   item page `GET /tickets/{id}` (signed in through /login like a browser) when the web app has it,
   and `POST /api/v1/tickets {"title", "requester_email"}` with a new address. Client round-trip
   p50/p95/p99/max.
3. SQL per request, in-process (Django test client): every statement timed; statements per request
   (min and max over different targets, extremes first: they must not grow with the data), SQL time,
   the costliest statements, and the query plan of each call's slowest statement (EXPLAIN QUERY PLAN
   on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL).

A fresh temporary data directory is used (removed at the end unless --keep); the database must be
empty. With no --database-url, SQLite in that directory. `--data-dir DIR --reuse` runs phases 2-3
again on a database loaded before (with --keep), for instance after an index was added. Traffic goes
to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# bench/customers.py and bench/web.py, importable because this script's directory is first on sys.path.
from customers import (
    ROOT,
    Latency,
    addresses,
    autovacuum_setting,
    configure,
    database_vendor,
    running_server,
    timed,
)
from web import statement_shape

ADMIN_EMAIL = "bench-work@deskhand.example"
ADMIN_PASSWORD = "bench-work-password-1"  # a throwaway agent in a throwaway database
AGENTS = 20
TEAMS = 3
PORTFOLIOS = 8
PROJECT_EVERY = 1000  # one project per this many tickets (200 at the default size)
PROJECT_SHARE = 0.2  # of tickets in a project; half of those in a folder
FOLDER_NAMES = ("Backlog", "Bugs", "Billing", "Onboarding")
ORG_PROJECT_SHARE = 0.5  # of projects that belong to a customer organization
TICKETS_PER_BATCH = 2000
BATCH = 1000  # rows per INSERT
SQLITE_LOAD_CACHE_KB = 512 * 1024  # the loader's page cache (SQLite's default is 2 MB)
PROGRESS_EVERY = 20_000
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)  # tickets spread over two years from here
SPAN_DAYS = 730
WARMUP = 20
LOAD_RECORD = "bench-work-load.json"  # in the data directory: what --reuse reports as the load
PROFILE_REQUESTS = 30
REQUEST_TIMEOUT = 60.0
NEW_DOMAIN_SHARE = 0.2

STATUS_WEIGHTS = {"new": 8, "open": 17, "pending": 10, "done": 65}
PRIORITY_WEIGHTS = {"low": 20, "normal": 55, "high": 20, "urgent": 5}
CHANNEL_WEIGHTS = {"email": 60, "portal": 15, "web": 12, "api": 8, "form": 4, "chat": 1}
PROBLEMS = (
    "Cannot open", "Error in", "Question about", "Refund for", "Problem with", "Slow", "Missing",
    "How do I change the", "Broken", "Please update the", "Cancel my", "Upgrade of the", "Wrong amount on the",
    "Cannot export the", "Access to the", "Duplicate", "Feedback on the", "Urgent: no",
)
OBJECTS = (
    "invoice", "password", "dashboard", "export", "mobile app", "account", "subscription", "report",
    "printer", "VPN", "calendar", "shipment", "order", "license", "webhook", "integration",
    "billing address", "API key", "backup", "two-factor login", "newsletter", "warehouse", "payroll",
    "contract", "delivery note", "user list", "quote", "statement", "login page", "search",
    "notification", "coupon", "storage quota", "SSO", "time zone", "signature", "spreadsheet import",
    "price list", "data retention", "audit log",
)
# Words a person types into the search box; each occurs in ~1/40 of the titles.
TITLE_WORDS = ("invoice", "dashboard", "subscription", "printer", "shipment", "license", "webhook", "warehouse",
               "payroll", "contract", "quote", "coupon", "spreadsheet", "retention")
SENTENCES = (
    "Since this morning the page only shows a spinner.", "We were charged twice this month.",
    "Could you tell me where to find this setting?", "The export stops after about a thousand rows.",
    "My colleague sees the same problem on her laptop.", "It worked fine until the update last week.",
    "Attached is a screenshot of the error.", "Please call me back when you have a moment.",
    "This blocks our month-end closing.", "The numbers do not match what we see in our books.",
    "We use the latest version of Chrome on Windows 11.", "I tried clearing the cache without success.",
    "Thanks for the quick answer yesterday.", "Can this be done before Friday?",
    "We have about forty users on the account.", "The message says the request timed out.",
    "I have checked the settings as you suggested.", "Our reference number is in the subject.",
    "We would like to add three more seats.", "Is there a way to schedule this automatically?",
)
ANSWERS = (
    "Thank you for reaching out.", "I have looked into your account.", "This is now fixed on our side.",
    "Could you send us the exact error message?", "I have passed this on to our billing team.",
    "You can change this under Settings, then Account.", "We have issued a refund of the second charge.",
    "The export limit has been raised for your account.", "Please try again and let me know the result.",
    "I will keep this ticket open until we hear from you.", "A fix is planned for the next release.",
)
NOTES = ("Customer is on the enterprise plan.", "Checked the logs: timeout at the gateway.",
         "Escalated to engineering.", "Duplicate of an older request, merged by hand.",
         "Waiting for the billing export.")
SAMPLE_FILES = (("screenshot.png", "image/png", 6_000), ("error.log", "text/plain", 3_000),
                ("invoice-2024.pdf", "application/pdf", 12_000), ("details.txt", "text/plain", 800))

# call -> (target p95 in ms, group)
LIST_CALLS: dict[str, str] = {  # call -> query string; <org>, <agent>... are drawn per request
    "no filter": "",
    "status=open": "status=open",
    "organization=<id>": "organization=<org>",
    "assignee=<agent>": "assignee=<agent>",
    "project=<id>": "project=<project>",
    "priority=high": "priority=high",
    "requester=<id>": "requester=<requester>",
    "search=<title word>": "search=<word>",
    "search=#<id>": "search=%23<ticket>",
    "search=<requester email>": "search=<email>",
    "status=open&priority=high": "status=open&priority=high",
    "status=open&assignee=<agent>": "status=open&assignee=<agent>",
    "organization=<id>&status=open": "organization=<org>&status=open",
    "project=<id>&status=open&priority=high": "project=<project>&status=open&priority=high",
    "status=pending&priority=urgent&assignee=<agent>": "status=pending&priority=urgent&assignee=<agent>",
    "status=open&search=<title word>": "status=open&search=<word>",
    "assignee=<agent>&search=<title word>": "assignee=<agent>&search=<word>",
    "page=1000 (offset 49 950, extra)": "page=1000",
}
# The agents' web Tickets page (50 rows, no count: it fetches 51 rows for its "next" link).
WEB_LIST_CALLS: dict[str, str] = {
    "GET /tickets (web list page, default view)": "/tickets",
    "GET /tickets?view=list&status=open (web list page)": "/tickets?view=list&status=open",
}
LIST_TARGET = 50.0
ITEM_TARGET = 100.0
CREATE_TARGET = 30.0


@dataclass
class Data:
    """What the HTTP and in-process phases pick their targets from."""

    ticket_ids: list[int]
    organization_ids: list[int]
    agent_ids: list[int]
    project_ids: list[int]
    requester_ids: list[int]
    requester_emails: list[str]
    domains: list[str]
    largest_organization: int
    smallest_organization: int
    busiest_agent: int
    largest_project: int
    busiest_requester: int
    longest_conversation: int
    shortest_conversation: int
    longest_conversation_messages: int = 0


@dataclass
class Report:
    database: str
    tickets: int
    customers: int
    organizations_requested: int
    messages: int
    seed: int
    requests: int
    reused: bool = False
    load: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    database_bytes: int = 0
    analyzed: bool = False
    statistics: str = ""
    autovacuum: str = ""
    load_1min_start: float = 0.0
    web_item_page: str = ""
    latencies: list[dict[str, Any]] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    commit: str = ""
    date: str = ""


# -- phase 1: load -------------------------------------------------------------------------------


def weighted(rng: random.Random, weights: dict[str, int]) -> Callable[[], str]:
    keys, cumulative = list(weights), []
    total = 0
    for key in keys:
        total += weights[key]
        cumulative.append(total)
    return lambda: rng.choices(keys, cum_weights=cumulative)[0]


@contextmanager
def explicit_timestamps(*models: Any) -> Iterator[None]:
    """Let bulk_create keep the created_at/updated_at given (auto_now* would stamp every row "now")."""
    from django.db.models import DateField

    saved = []
    for model in models:
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, DateField) and (model_field.auto_now or model_field.auto_now_add):
                saved.append((model_field, model_field.auto_now, model_field.auto_now_add))
                model_field.auto_now = model_field.auto_now_add = False
    try:
        yield
    finally:
        for model_field, auto_now, auto_now_add in saved:
            model_field.auto_now, model_field.auto_now_add = auto_now, auto_now_add


def message_counts(tickets: int, messages: int, rng: random.Random) -> list[int]:
    """Messages per ticket: at least one, ~uniform around the mean, summing exactly to `messages`."""
    if messages < tickets:
        raise SystemExit("--messages must be at least --tickets (every ticket has its first message).")
    mean = messages / tickets
    counts = [max(1, round(rng.uniform(1, 2 * mean - 1))) for _ in range(tickets)]
    difference = messages - sum(counts)
    while difference:
        index = rng.randrange(tickets)
        if difference > 0:
            counts[index] += 1
            difference -= 1
        elif counts[index] > 1:
            counts[index] -= 1
            difference += 1
    return counts


class Loader:
    """Writes the data set; every row is what the services would have written for it."""

    def __init__(self, report: Report, rng: random.Random, data_dir: Path, *, vacuum: bool) -> None:
        self.report = report
        self.vacuum = vacuum
        self.rng = rng
        self.data_dir = data_dir
        self.timings: dict[str, float] = {}
        self.customer_email: list[str] = [""]  # by customer id (1-based)
        self.customer_org: list[int | None] = [None]
        self.org_name: dict[int, str] = {}
        self.org_members: dict[int, list[int]] = {}

    def run(self) -> Any:
        from deskhand.customers.models import Customer
        from deskhand.work.models import Item

        if Customer.objects.exists() or Item.objects.exists():
            raise SystemExit("The database already holds customers or items; give an empty one (or --reuse).")
        started = time.perf_counter()
        from django.db import connection

        if connection.vendor == "sqlite":  # this connection only: fewer re-reads of index pages while loading
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KB}")
        admin = self.step("agents, teams and the API token (services)", self.people)
        self.step("organizations and customers (bulk)", self.customers)
        self.step("portfolios, projects and folders (services)", self.projects)
        self.step("tickets, messages, assignees, followers, time (bulk)", self.tickets)
        self.step("sequences", self.reset_sequences)
        self.report.load["rows_seconds"] = round(time.perf_counter() - started, 1)
        self.report.statistics = self.step("ANALYZE", lambda: analyze(vacuum=self.vacuum))
        self.report.analyzed = True
        self.report.load["total_seconds"] = round(time.perf_counter() - started, 1)
        self.report.load["steps"] = self.timings
        return admin

    def step(self, name: str, function: Callable[[], Any]) -> Any:
        print(f"  {name} …", flush=True)
        started = time.perf_counter()
        result = function()
        self.timings[name] = round(time.perf_counter() - started, 1)
        print(f"  {name}: {self.timings[name]} s", flush=True)
        return result

    # agents, teams, token

    def people(self) -> Any:
        from deskhand.agents.services import create_agent, create_team, issue_token
        from deskhand.core.actors import SYSTEM, Actor

        admin = create_agent(ADMIN_EMAIL, name="Bench Work", password=ADMIN_PASSWORD, is_admin=True, actor=SYSTEM)
        self.agents = [create_agent(f"agent{n}@deskhand.example", name=f"Agent {n}", actor=SYSTEM)
                       for n in range(1, AGENTS + 1)]
        self.teams = [create_team(f"Team {n}", members=[a.pk for a in self.agents[n::TEAMS]], actor=SYSTEM)
                      for n in range(TEAMS)]
        token, _plain = issue_token(admin, name="integration", actor=SYSTEM)
        self.admin = admin
        self.token_actor = Actor.token(token, admin)
        return admin

    # organizations and customers

    def customers(self) -> None:
        from django.db import transaction

        from deskhand.audit.models import AuditEvent
        from deskhand.core.actors import SYSTEM
        from deskhand.customers.models import Customer, Organization, OrganizationDomain, Source
        from deskhand.customers.services import AUTO_CREATE_RULE

        count = self.report.customers
        people = list(addresses(count, self.report.organizations_requested, self.rng))
        first = START - dt.timedelta(days=365)
        step = dt.timedelta(days=365 + SPAN_DAYS) / max(1, count)
        org_of_domain: dict[str, int] = {}
        for start in range(0, count, 10_000):
            organizations, domains, customers, events = [], [], [], []
            for number in range(start, min(count, start + 10_000)):
                email, name, free_mail = people[number]
                customer_id = number + 1
                created = first + step * number
                domain = email.split("@", 1)[1]
                org_id = None
                filed = "free-mail domain"
                if not free_mail:
                    org_id = org_of_domain.get(domain)
                    filed = "owned domain"
                    if org_id is None:
                        org_id = org_of_domain[domain] = len(org_of_domain) + 1
                        filed = "auto-created organization"
                        self.org_name[org_id] = domain
                        organizations.append(Organization(id=org_id, name=domain, source=Source.AUTO,
                                                          created_at=created, updated_at=created))
                        domains.append(OrganizationDomain(id=org_id, organization_id=org_id, domain=domain,
                                                          created_at=created))
                        events.append(event(AUTO_CREATE_RULE, "organization.created", "organization", org_id,
                                            domain, {"domain": domain, "name": domain, "triggered_by": "system"},
                                            created))
                    self.org_members.setdefault(org_id, []).append(customer_id)
                source = Source.EMAIL if free_mail else Source.CSV
                customers.append(Customer(
                    id=customer_id, email=email, email_key=email.lower(), domain=domain, name=name,
                    organization_id=org_id, placed_manually=False, source=source, custom_fields={},
                    created_at=created, updated_at=created,
                ))
                events.append(event(SYSTEM, "customer.created", "customer", customer_id, email, {
                    "email": email, "name": name, "phone": "", "language": "", "notes": "", "customer_type": None,
                    "organization": org_id, "custom_fields": {}, "source": str(source), "filed": filed,
                }, created))
                self.customer_email.append(email)
                self.customer_org.append(org_id)
            with explicit_timestamps(Organization, OrganizationDomain, Customer, AuditEvent), transaction.atomic():
                Organization.objects.bulk_create(organizations, batch_size=BATCH)
                OrganizationDomain.objects.bulk_create(domains, batch_size=BATCH)
                Customer.objects.bulk_create(customers, batch_size=BATCH)
                AuditEvent.objects.bulk_create(events, batch_size=BATCH)
        self.report.rows["organizations"] = len(org_of_domain)
        self.report.rows["customers"] = count
        self.report.rows["customers_without_organization"] = sum(1 for org in self.customer_org[1:] if org is None)

    # projects

    def projects(self) -> None:
        from deskhand.core.actors import SYSTEM
        from deskhand.work.services.projects import create_folder, create_portfolio, create_project

        portfolios = [create_portfolio(f"Portfolio {n}", actor=SYSTEM) for n in range(1, PORTFOLIOS + 1)]
        org_ids = sorted(self.org_name)
        self.projects_list: list[tuple[int, int | None, list[tuple[int, str]]]] = []  # id, organization, folders
        self.project_names: dict[int, str] = {}
        self.folders_of: dict[int, list[tuple[int, str]]] = {}
        self.projects_of_org: dict[int, list[int]] = {}
        for number in range(1, max(1, self.report.tickets // PROJECT_EVERY) + 1):
            organization = self.rng.choice(org_ids) if org_ids and self.rng.random() < ORG_PROJECT_SHARE else None
            portfolio = self.rng.choice(portfolios) if self.rng.random() < 0.8 else None
            name = f"Project {number}" + (f" for {self.org_name[organization]}" if organization else "")
            project = create_project(name, portfolio=portfolio, organization=organization, actor=SYSTEM)
            folders = [create_folder(folder_name, project=project, actor=SYSTEM)
                       for folder_name in FOLDER_NAMES[:self.rng.randrange(len(FOLDER_NAMES) + 1)]]
            self.projects_list.append((project.pk, organization, [(f.pk, f.name) for f in folders]))
            self.project_names[project.pk] = project.name
            self.folders_of[project.pk] = [(f.pk, f.name) for f in folders]
            if organization:
                self.projects_of_org.setdefault(organization, []).append(project.pk)
        self.report.rows["projects"] = len(self.projects_list)

    # tickets and all that hangs off them

    def tickets(self) -> None:
        from django.core.files.base import ContentFile

        from deskhand.work.models import Status
        from deskhand.work.models.messages import attachment_storage

        rng = self.rng
        statuses = {s.key: s.pk for s in Status.objects.filter(kind="ticket")}
        missing = set(STATUS_WEIGHTS) - set(statuses)
        if missing:
            raise SystemExit(f"The ticket workflow lacks the seeded statuses {sorted(missing)}.")
        self.status_ids = statuses
        storage = attachment_storage()
        self.files = []
        for name, content_type, size in SAMPLE_FILES:
            data = bytes(rng.getrandbits(8) for _ in range(size))
            path = storage.save(f"bench/{name}", ContentFile(data))
            self.files.append((name, content_type, size, hashlib.sha256(data).hexdigest(), path))
        self.counts = message_counts(self.report.tickets, self.report.messages, rng)
        self.pick_status = weighted(rng, STATUS_WEIGHTS)
        self.pick_priority = weighted(rng, PRIORITY_WEIGHTS)
        self.pick_channel = weighted(rng, CHANNEL_WEIGHTS)
        self.frequent = max(1, self.report.customers // 20)
        self.message_id = self.time_entry_id = 0
        self.totals = {"items": 0, "messages": 0, "assignees": 0, "followers": 0, "attachments": 0,
                       "time_entries": 0, "audit_events": 0}
        started = window = time.perf_counter()
        done = 0
        total = self.report.tickets
        while done < total:
            size = min(TICKETS_PER_BATCH, total - done)
            self.ticket_batch(done, size)
            done += size
            if done % PROGRESS_EVERY == 0 or done == total:
                now = time.perf_counter()
                print(f"  {done:>7} tickets  {now - started:7.1f} s  ({PROGRESS_EVERY / (now - window):6.0f}/s, "
                      f"{self.totals['messages']} messages)", flush=True)
                window = now
        self.report.rows.update({"tickets": self.totals["items"], **{k: v for k, v in self.totals.items()
                                                                      if k != "items"}})

    def ticket_batch(self, first_index: int, size: int) -> None:
        from django.db import transaction

        from deskhand.audit.models import AuditEvent
        from deskhand.work.models import Assignee, Follower, Item, Message, TimeEntry
        from deskhand.work.models.messages import Attachment

        rng = self.rng
        span = dt.timedelta(days=SPAN_DAYS) / self.report.tickets
        rows: dict[str, list[Any]] = {"items": [], "assignees": [], "followers": [], "messages": [],
                                      "attachments": [], "time_entries": [], "audit_events": []}
        for index in range(first_index, first_index + size):
            item_id = index + 1
            created = START + span * index + dt.timedelta(seconds=rng.randrange(60))
            # A few customers write often: 30 % of tickets come from 5 % of the customers.
            requester = rng.randint(1, self.frequent if rng.random() < 0.3 else self.report.customers)
            email = self.customer_email[requester]
            org_id = self.customer_org[requester]
            status_key = self.pick_status()
            priority_key = self.pick_priority()
            channel = self.pick_channel()
            title = f"{rng.choice(PROBLEMS)} {rng.choice(OBJECTS)}"
            project_id = folder_id = None
            project_name = folder_name = None
            if self.projects_list and rng.random() < PROJECT_SHARE:
                own = self.projects_of_org.get(org_id or 0)
                if own and rng.random() < 0.7:
                    project_id = rng.choice(own)
                    folders = self.folders_of[project_id]
                else:
                    project_id, _org, folders = rng.choice(self.projects_list)
                project_name = self.project_names[project_id]
                if folders and rng.random() < 0.5:
                    folder_id, folder_name = rng.choice(folders)
            agent = rng.choice(self.agents)
            creator = self.admin if channel == "api" else agent if channel == "web" else None
            if channel == "api":
                creator_actor = actor_fields(self.token_actor)
            elif channel == "web":
                creator_actor = agent_actor(agent)
            else:
                creator_actor = customer_actor(email)
            # Assignment: most tickets past "new" have one agent, a few a team.
            assignees: list[tuple[str, Any]] = []
            draw = rng.random()
            if status_key != "new" or draw < 0.6:
                if draw < 0.9:
                    assignees = [("agent", agent)]
                elif draw < 0.95:
                    assignees = [("team", rng.choice(self.teams))]
            colleague = None
            members = self.org_members.get(org_id or 0, [])
            if len(members) > 1 and rng.random() < 0.03:
                colleague = rng.choice([m for m in members if m != requester])
            follower_agent = rng.choice(self.agents) if rng.random() < 0.04 else None
            reply_agent = next((who for kind, who in assignees if kind == "agent"), agent)
            # The conversation.
            body0 = " ".join(rng.sample(SENTENCES, rng.randint(2, 5)))
            moment = created
            messages: list[tuple[str, str, dt.datetime, list[str], str]] = []  # kind, body, at, to, attachment
            recipients = sorted([email] + ([self.customer_email[colleague]] if colleague else []))
            for number in range(self.counts[index]):
                if number == 0:
                    kind, body = "customer", body0
                else:
                    moment += dt.timedelta(minutes=rng.randint(5, 2 * 24 * 60))
                    if rng.random() < 0.15:
                        kind, body = "note", rng.choice(NOTES)
                    elif number % 2 == 1:
                        kind = "reply"
                        body = (f"Hello {email.split('@')[0]},\n\n" + " ".join(rng.sample(ANSWERS, rng.randint(1, 3)))
                                + f"\n\nBest regards,\n{reply_agent.name}")
                    else:
                        kind, body = "customer", " ".join(rng.sample(SENTENCES, rng.randint(1, 4)))
                messages.append((kind, body, moment, recipients if kind == "reply" else [],
                                 "file" if kind == "customer" and rng.random() < 0.02 else ""))
            updated = moment
            rows["items"].append(Item(
                id=item_id, kind="ticket", title=title, description=body0, status_id=self.status_ids[status_key],
                priority=PRIORITY_VALUES[priority_key], requester_id=requester, organization_id=org_id,
                project_id=project_id, folder_id=folder_id, channel=channel, custom_fields={},
                created_by_id=creator.pk if creator else None, created_at=created, updated_at=updated,
            ))
            label = f"#{item_id} {title}"
            rows["audit_events"].append(event(creator_actor, "ticket.created", "item", item_id, label, {
                "title": title, "status": "new", "priority": priority_key, "requester": email,
                "organization": self.org_name.get(org_id or 0), "project": project_name, "folder": folder_name,
                "custom_fields": {}, "channel": channel, "assignees": [],
            }, created))
            refs = sorted(f"{kind}:{who.pk}" for kind, who in assignees)
            for kind, who in assignees:
                rows["assignees"].append(Assignee(item_id=item_id, kind="ticket", **{kind: who}))
            changes: dict[str, Any] = {}
            if status_key != "new":
                changes["status"] = {"old": "new", "new": status_key}
            if refs:
                changes["assignees"] = {"old": [], "new": refs}
            if changes:
                at = created + dt.timedelta(minutes=rng.randint(1, 120))
                rows["audit_events"].append(event(agent_actor(reply_agent), "ticket.updated", "item", item_id, label,
                                                  changes, at))
            rows["followers"].append(Follower(item_id=item_id, customer_id=requester, created_at=created))
            if colleague:
                rows["followers"].append(Follower(item_id=item_id, customer_id=colleague, created_at=created))
            if follower_agent:
                rows["followers"].append(Follower(item_id=item_id, agent=follower_agent, created_at=created))
            # Customer messages arrive by the ticket's channel; the team writes in the web app.
            customer_channel = channel if channel in ("email", "portal", "chat") else "web"
            for kind, body, at, to, attachment in messages:
                self.message_id += 1
                by_customer = kind == "customer"
                rows["messages"].append(Message(
                    id=self.message_id, item_id=item_id, kind=kind, body=body,
                    channel=customer_channel if by_customer else "web",
                    author_agent=None if by_customer else reply_agent,
                    author_customer_id=requester if by_customer else None,
                    author_email=email if by_customer else reply_agent.email,
                    author_name=f"Person {requester - 1}" if by_customer else reply_agent.name,
                    recipients=to, created_at=at,
                ))
                names = []
                if attachment:
                    name, content_type, size_bytes, sha256, path = rng.choice(self.files)
                    names.append(name)
                    rows["attachments"].append(Attachment(
                        message_id=self.message_id, name=name, content_type=content_type, size=size_bytes,
                        sha256=sha256, file=path, created_at=at,
                    ))
                details: dict[str, Any] = {"message": self.message_id, "attachments": names}
                if kind == "reply":
                    details["to"] = to
                rows["audit_events"].append(event(
                    customer_actor(email) if by_customer else agent_actor(reply_agent), f"message.{kind}",
                    "item", item_id, label, details, at))
                if kind == "reply" and rng.random() < 0.3:
                    minutes = rng.choice((5, 10, 15, 20, 30, 45, 60, 90, 120))
                    billable = rng.random() < 0.7
                    self.time_entry_id += 1
                    rows["time_entries"].append(TimeEntry(
                        id=self.time_entry_id, item_id=item_id, agent=reply_agent, minutes=minutes, date=at.date(),
                        billable=billable, created_at=at))
                    rows["audit_events"].append(event(agent_actor(reply_agent), "time.logged", "item", item_id, label, {
                        "entry": self.time_entry_id, "agent": reply_agent.email, "minutes": minutes,
                        "date": at.date().isoformat(), "billable": billable}, at))
        models = {"items": Item, "assignees": Assignee, "followers": Follower, "messages": Message,
                  "attachments": Attachment, "time_entries": TimeEntry, "audit_events": AuditEvent}
        with explicit_timestamps(*models.values()), transaction.atomic():
            for key, model in models.items():
                model.objects.bulk_create(rows[key], batch_size=BATCH)
                self.totals[key] += len(rows[key])

    def reset_sequences(self) -> None:
        """Rows went in with explicit ids: move PostgreSQL's sequences past them (SQLite does it itself)."""
        from django.core.management.color import no_style
        from django.db import connection

        from deskhand.customers.models import Customer, Organization, OrganizationDomain
        from deskhand.work.models import Item, Message, TimeEntry

        models = [Organization, OrganizationDomain, Customer, Item, Message, TimeEntry]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)


PRIORITY_VALUES = {"low": 10, "normal": 20, "high": 30, "urgent": 40}


def actor_fields(actor: Any) -> dict[str, Any]:
    return {"actor_kind": str(actor.kind), "actor_label": actor.label[:300], "actor_agent_id": actor.agent_id,
            "actor_token_id": actor.token_id}


def agent_actor(agent: Any) -> dict[str, Any]:
    return {"actor_kind": "agent", "actor_label": agent.email, "actor_agent_id": agent.pk, "actor_token_id": None}


def customer_actor(email: str) -> dict[str, Any]:
    return {"actor_kind": "customer", "actor_label": email, "actor_agent_id": None, "actor_token_id": None}


def event(actor: Any, action: str, object_type: str, object_id: int, label: str, changes: dict[str, Any],
          at: dt.datetime) -> Any:
    from deskhand.audit.models import AuditEvent

    fields = actor if isinstance(actor, dict) else actor_fields(actor)
    return AuditEvent(action=action, object_type=object_type, object_id=object_id, object_label=label[:300],
                      changes=changes, created_at=at, **fields)


def analyze(*, vacuum: bool = False) -> str:
    """Fresh planner statistics on both databases (this PostgreSQL runs with autovacuum off); with
    `vacuum`, PostgreSQL also gets the visibility map that autovacuum would have set."""
    from django.db import connection

    statement = "VACUUM ANALYZE" if vacuum and connection.vendor == "postgresql" else "ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(statement)
    return statement


def database_bytes(data_dir: Path) -> int:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
    return sum(path.stat().st_size for path in data_dir.glob("deskhand.sqlite3*"))


def count_rows(report: Report) -> None:
    from deskhand.audit.models import AuditEvent
    from deskhand.customers.models import Customer, Organization
    from deskhand.work.models import Assignee, Follower, Item, Message, TimeEntry

    for name, model in (("organizations", Organization), ("customers", Customer), ("tickets", Item),
                        ("messages", Message), ("assignees", Assignee), ("followers", Follower),
                        ("time_entries", TimeEntry), ("audit_events", AuditEvent)):
        report.rows[name] = model.objects.count()


# -- targets -------------------------------------------------------------------------------------


def targets(rng: random.Random) -> Data:
    """Ids to draw from, and the extremes (the largest and smallest of each) for the query counts."""
    from django.db.models import Count

    from deskhand.customers.models import Customer, OrganizationDomain
    from deskhand.work.models import Assignee, Item, Message, Project

    tickets = Item.objects.filter(kind="ticket")
    ticket_ids = list(tickets.values_list("pk", flat=True))
    if not ticket_ids:
        raise SystemExit("No tickets in the database.")
    by_org = list(tickets.filter(organization__isnull=False).values_list("organization_id")
                  .annotate(n=Count("id")).order_by("n", "organization_id"))
    by_agent = list(Assignee.objects.filter(agent__isnull=False).values_list("agent_id")
                    .annotate(n=Count("id")).order_by("-n", "agent_id"))
    by_project = list(tickets.filter(project__isnull=False).values_list("project_id")
                      .annotate(n=Count("id")).order_by("-n", "project_id"))
    by_requester = list(tickets.values_list("requester_id").annotate(n=Count("id")).order_by("-n", "requester_id"))
    sample = rng.sample(ticket_ids, min(2000, len(ticket_ids)))
    requesters = tickets.filter(pk__in=sample).values_list("requester_id", flat=True)
    emails = list(Customer.objects.filter(pk__in=requesters).values_list("email", flat=True).order_by("pk"))
    longest = Message.objects.values_list("item_id").annotate(n=Count("id")).order_by("-n", "item_id").first()
    shortest = Message.objects.values_list("item_id").annotate(n=Count("id")).order_by("n", "item_id").first()
    return Data(
        ticket_ids=ticket_ids,
        organization_ids=[org for org, _n in by_org],
        agent_ids=[agent for agent, _n in by_agent],
        project_ids=[project for project, _n in by_project] or list(Project.objects.values_list("pk", flat=True)),
        requester_ids=[requester for requester, _n in by_requester if requester],
        requester_emails=emails,
        domains=list(OrganizationDomain.objects.order_by("pk").values_list("domain", flat=True)),
        largest_organization=by_org[-1][0] if by_org else 0,
        smallest_organization=by_org[0][0] if by_org else 0,
        busiest_agent=by_agent[0][0] if by_agent else 0,
        largest_project=by_project[0][0] if by_project else 0,
        busiest_requester=by_requester[0][0] if by_requester else 0,
        longest_conversation=longest[0] if longest else ticket_ids[0],
        shortest_conversation=shortest[0] if shortest else ticket_ids[0],
        longest_conversation_messages=longest[1] if longest else 0,
    )


class Traffic:
    """Random targets (seeded) for each kind of call."""

    def __init__(self, rng: random.Random, data: Data) -> None:
        self.rng = rng
        self.data = data
        self.counter = 0
        self.last_was_new_domain = False

    def fill(self, template: str, extremes: dict[str, Any] | None = None) -> str:
        data, rng = self.data, self.rng
        picks = extremes or {}
        values = {
            "<org>": lambda: picks.get("org") or rng.choice(data.organization_ids),
            "<agent>": lambda: picks.get("agent") or rng.choice(data.agent_ids),
            "<project>": lambda: picks.get("project") or rng.choice(data.project_ids),
            "<requester>": lambda: picks.get("requester") or rng.choice(data.requester_ids),
            "<word>": lambda: rng.choice(TITLE_WORDS),
            "<ticket>": lambda: rng.choice(data.ticket_ids),
            "<email>": lambda: rng.choice(data.requester_emails).replace("@", "%40"),
        }
        for placeholder, value in values.items():
            if placeholder in template:
                template = template.replace(placeholder, str(value()))
        return template

    def list_url(self, template: str, extremes: dict[str, Any] | None = None) -> str:
        query = self.fill(template, extremes)
        return "/api/v1/tickets?page_size=50" + (f"&{query}" if query else "")

    def ticket(self) -> int:
        return self.rng.choice(self.data.ticket_ids)

    def new_ticket(self) -> dict[str, str]:
        """A ticket from a new address: 80 % at an existing organization's domain, 20 % at a new domain."""
        self.counter += 1
        self.last_was_new_domain = self.rng.random() < NEW_DOMAIN_SHARE
        domain = f"new-{self.counter}-{self.rng.randrange(10**6)}.example" if self.last_was_new_domain \
            else self.rng.choice(self.data.domains)
        return {"title": f"{self.rng.choice(PROBLEMS)} {self.rng.choice(OBJECTS)}",
                "description": " ".join(self.rng.sample(SENTENCES, 2)),
                "requester_email": f"bench{self.counter}-{self.rng.randrange(10**6)}@{domain}"}


# -- phase 2: HTTP -------------------------------------------------------------------------------


def load() -> float:
    """The 1-minute load average: this machine is shared, and the figures are only as good as it is idle."""
    return round(os.getloadavg()[0], 2)


def wait_for_quiet(threshold: float, longest: float = 900.0) -> None:
    """With --quiet X, wait (at most 15 min) until the 1-minute load average is below X."""
    if threshold <= 0:
        return
    deadline = time.monotonic() + longest
    while load() >= threshold and time.monotonic() < deadline:
        time.sleep(5)


def has_route(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def sign_in(client: Any) -> None:
    """Like a browser (bench/web.py): the sign-in form sets csrftoken, posting it sets the session."""
    page = client.get("/login")
    if page.status_code != 200 or "csrftoken" not in client.cookies:
        raise SystemExit(f"GET /login answered {page.status_code} without a csrftoken cookie")
    response = client.post("/login", data={
        "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"],
    }, headers={"Referer": f"{client.base_url}login"})
    if response.status_code != 302 or "sessionid" not in client.cookies:
        raise SystemExit(f"POST /login answered {response.status_code}: {response.text[:300]}")


def measure_http(report: Report, base: str, token: str, traffic: Traffic, requests: int, web_page: bool,
                 quiet: float) -> None:
    import httpx

    rows: list[dict[str, Any]] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=REQUEST_TIMEOUT) as api, \
            httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as browser:
        if web_page:
            sign_in(browser)
        for _ in range(WARMUP):
            timed(api, None, "GET", traffic.list_url(""), 200)
            ticket = traffic.ticket()
            timed(api, None, "GET", f"/api/v1/tickets/{ticket}", 200)
            timed(api, None, "GET", f"/api/v1/tickets/{ticket}/messages", 200)
            if web_page:
                timed(browser, None, "GET", f"/tickets/{ticket}", 200)
        # Lists, one filter set at a time.
        for name, template in LIST_CALLS.items():
            wait_for_quiet(quiet)
            latency = Latency(f"GET /api/v1/tickets?{name}")
            counts = []
            for _ in range(WARMUP // 4):
                timed(api, None, "GET", traffic.list_url(template), 200)
            for _ in range(requests):
                response = timed(api, latency, "GET", traffic.list_url(template), 200)
                counts.append(response.json()["count"])
            rows.append(latency.summary() | {"group": "list", "filter": name, "target_p95_ms": LIST_TARGET,
                                             "count_median": sorted(counts)[len(counts) // 2], "load_1min": load()})
            print(f"    {latency.name:<70} p50 {rows[-1]['p50_ms']:>7} p95 {rows[-1]['p95_ms']:>7}", flush=True)
        if web_page:
            for name, url in WEB_LIST_CALLS.items():
                wait_for_quiet(quiet)
                latency = Latency(name)
                for _ in range(WARMUP // 4):
                    timed(browser, None, "GET", url, 200)
                for _ in range(requests):
                    timed(browser, latency, "GET", url, 200)
                rows.append(latency.summary() | {"group": "list", "filter": name, "target_p95_ms": LIST_TARGET,
                                                 "load_1min": load()})
                print(f"    {latency.name:<70} p50 {rows[-1]['p50_ms']:>7} p95 {rows[-1]['p95_ms']:>7}", flush=True)
        # The item page.
        detail = Latency("GET /api/v1/tickets/{id}")
        messages = Latency("GET /api/v1/tickets/{id}/messages")
        both = Latency("item page through the API (detail + messages)")
        page = Latency("GET /tickets/{id} (web item page)")
        wait_for_quiet(quiet)
        for _ in range(requests):
            ticket = traffic.ticket()
            timed(api, detail, "GET", f"/api/v1/tickets/{ticket}", 200)
            response = timed(api, messages, "GET", f"/api/v1/tickets/{ticket}/messages", 200)
            both.samples_ms.append(detail.samples_ms[-1] + messages.samples_ms[-1])
            if web_page:
                timed(browser, page, "GET", f"/tickets/{ticket}", 200)
        if not response.json().get("items"):
            raise SystemExit(f"Unexpected messages answer: {response.text[:300]}")
        for latency in (detail, messages, both, page):
            if latency.samples_ms:
                rows.append(latency.summary() | {"group": "item", "target_p95_ms": ITEM_TARGET, "load_1min": load()})
                print(f"    {latency.name:<70} p50 {rows[-1]['p50_ms']:>7} p95 {rows[-1]['p95_ms']:>7}", flush=True)
        # Creating tickets with new requesters.
        post = Latency("POST /api/v1/tickets (new requester)")
        existing = Latency("  of which: at an existing organization's domain")
        new = Latency("  of which: at a new domain (creates an organization)")
        for _ in range(WARMUP):
            timed(api, None, "POST", "/api/v1/tickets", 201, json=traffic.new_ticket())
        wait_for_quiet(quiet)
        for _ in range(requests):
            timed(api, post, "POST", "/api/v1/tickets", 201, json=traffic.new_ticket())
            (new if traffic.last_was_new_domain else existing).samples_ms.append(post.samples_ms[-1])
        for latency in (post, existing, new):
            if latency.samples_ms:
                rows.append(latency.summary() | {"group": "create", "target_p95_ms": CREATE_TARGET,
                                                 "load_1min": load()})
                print(f"    {latency.name:<70} p50 {rows[-1]['p50_ms']:>7} p95 {rows[-1]['p95_ms']:>7}", flush=True)
    report.latencies = rows


# -- phase 3: SQL per request --------------------------------------------------------------------


class Recorder:
    """A `connection.execute_wrapper`: every statement timed, and the slowest one kept with its parameters."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, float]] = []
        self.slowest: tuple[float, str, Any] = (-1.0, "", None)

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - started) * 1000
            self.statements.append((sql, ms))
            if ms > self.slowest[0] and not many:
                self.slowest = (ms, sql, params)


def explain(sql: str, params: Any) -> list[str]:
    """The plan of a SELECT: EXPLAIN QUERY PLAN (SQLite), EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL)."""
    from django.db import connection

    if not sql.lstrip().upper().startswith("SELECT"):
        return []
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        rows = cursor.fetchall()
    if connection.vendor == "postgresql":
        return [str(row[0]) for row in rows]
    return [f"{'  ' * depth(rows, row)}{row[-1]}" for row in rows]


def depth(rows: list[Any], row: Any) -> int:
    """Indentation of an EXPLAIN QUERY PLAN row (id, parent, notused, detail)."""
    parents = {r[0]: r[1] for r in rows}
    level, parent = 0, row[1]
    while parent:
        level += 1
        parent = parents.get(parent, 0)
    return level


def profile_queries(report: Report, token: str, admin: Any, traffic: Traffic, data: Data, web_page: bool) -> None:
    """Each call in-process, every statement captured; extremes first, then random targets."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    browser = Client()
    browser.force_login(admin)
    big = {"org": data.largest_organization, "agent": data.busiest_agent, "project": data.largest_project,
           "requester": data.busiest_requester}
    small = {"org": data.smallest_organization, "requester": data.requester_ids[-1]}
    calls: dict[str, tuple[str, Callable[[int], Any]]] = {}
    for name, template in LIST_CALLS.items():
        def listing(i: int, template: str = template) -> Any:
            extremes = big if i == 0 else small if i == 1 else None
            return api.get(traffic.list_url(template, extremes))
        calls[f"GET /api/v1/tickets?{name}"] = ("list", listing)

    if web_page:
        for name, url in WEB_LIST_CALLS.items():
            calls[name] = ("list", lambda _i, url=url: browser.get(url))

    def ticket(i: int) -> int:
        return (data.longest_conversation, data.shortest_conversation)[i] if i < 2 else traffic.ticket()

    calls["GET /api/v1/tickets/{id}"] = ("item", lambda i: api.get(f"/api/v1/tickets/{ticket(i)}"))
    calls["GET /api/v1/tickets/{id}/messages"] = ("item", lambda i: api.get(f"/api/v1/tickets/{ticket(i)}/messages"))
    if web_page:
        calls["GET /tickets/{id} (web item page)"] = ("item", lambda i: browser.get(f"/tickets/{ticket(i)}"))
    calls["POST /api/v1/tickets (new requester)"] = (
        "create", lambda _i: api.post("/api/v1/tickets", traffic.new_ticket(), content_type="application/json"))
    for name, (group, call) in calls.items():
        call(2)  # warm the caches and the connection
        counts: list[int] = []
        recorder = Recorder()
        started = time.perf_counter()
        with connection.execute_wrapper(recorder):
            for i in range(PROFILE_REQUESTS):
                with CaptureQueriesContext(connection) as captured:
                    response = call(i)
                if response.status_code >= 400:
                    raise SystemExit(f"{name} answered {response.status_code}: {response.content[:300]!r}")
                counts.append(len(captured.captured_queries))
        wall_ms = (time.perf_counter() - started) * 1000 / PROFILE_REQUESTS
        per_statement: dict[str, list[float]] = {}
        for sql, ms in recorder.statements:
            per_statement.setdefault(statement_shape(sql), []).append(ms)
        ranked = sorted(per_statement.items(), key=lambda item: -sum(item[1]))
        slowest_ms, slowest_sql, slowest_params = recorder.slowest
        try:
            plan = explain(slowest_sql, slowest_params)
        except Exception as exc:  # a plan is a diagnostic: never lose the run over it
            plan = [f"(EXPLAIN failed: {exc})"]
        report.queries.append({
            "call": name, "group": group, "requests": PROFILE_REQUESTS,
            "queries_min": min(counts), "queries_max": max(counts), "queries_distinct": sorted(set(counts)),
            "sql_ms_per_request": round(sum(ms for _, ms in recorder.statements) / PROFILE_REQUESTS, 2),
            "wall_ms_per_request": round(wall_ms, 2), "load_1min": load(),
            "statements": [
                {"sql": sql, "per_request": round(len(times) / PROFILE_REQUESTS, 2),
                 "mean_ms": round(sum(times) / len(times), 3), "max_ms": round(max(times), 3)}
                for sql, times in ranked
            ],
            "slowest": {"ms": round(slowest_ms, 3), "sql": " ".join(slowest_sql.split()),
                        "params": [str(p) for p in (slowest_params or [])], "plan": plan},
        })


# -- output --------------------------------------------------------------------------------------


def verdict(row: dict[str, Any]) -> str:
    target = row.get("target_p95_ms")
    if target is None or row["call"].startswith("  of which") or "extra" in row["call"]:
        return ""
    return f"< {target:g}: " + ("yes" if row["p95_ms"] < target else "NO")


def print_report(report: Report, *, statements: int, plans: bool) -> None:
    machine = report.machine
    print()
    print(f"Deskhand work benchmark — {report.database}, started {report.date}, commit {report.commit}")
    print(f"  machine: {machine['cpus']} CPUs, {machine['ram_gb']} GB RAM, {machine['platform']}, "
          f"Python {machine['python']}")
    rows = report.rows
    print(f"  data: {rows.get('tickets')} tickets, {rows.get('messages')} messages, {rows.get('customers')} customers "
          f"in {rows.get('organizations')} organizations, {rows.get('audit_events')} audit rows; "
          f"database {report.database_bytes / 2**20:.0f} MB")
    if report.load:
        print(f"  load: {report.load.get('rows_seconds')} s for the rows, {report.load.get('total_seconds')} s "
              "with ANALYZE;", ", ".join(f"{k}: {v} s" for k, v in report.load.get("steps", {}).items()))
    print(f"  statistics: {report.statistics} after the load; autovacuum: {report.autovacuum}; "
          f"1-minute load average when the measurements started: {report.load_1min_start}")
    print(f"  web item page: {report.web_item_page}")
    print()
    print(f"  {'HTTP round-trip (one keep-alive client, sequential)':<74} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8} {'load':>5}  target p95")
    for row in report.latencies:
        print(f"  {row['call']:<74} {row['n']:>5} {row['p50_ms']:>8} {row['p95_ms']:>8} "
              f"{row['p99_ms']:>8} {row['max_ms']:>8} {row.get('load_1min', ''):>5}  {verdict(row)}")
    print()
    print(f"  {'in-process (Django test client)':<74} {'queries':>9} {'SQL ms':>8} {'total ms':>9} {'load':>5}"
          "  (per request)")
    for row in report.queries:
        spread = (str(row["queries_min"]) if row["queries_min"] == row["queries_max"]
                  else f"{row['queries_min']}-{row['queries_max']}")
        print(f"  {row['call']:<74} {spread:>9} {row['sql_ms_per_request']:>8} {row['wall_ms_per_request']:>9} "
              f"{row['load_1min']:>5}")
        for statement in row["statements"][:statements]:
            print(f"      {statement['per_request']:>5}x {statement['mean_ms']:>8.3f} ms  {statement['sql'][:150]}")
        if plans and row["slowest"]["plan"]:
            print(f"      slowest statement ({row['slowest']['ms']} ms), plan:")
            for line in row["slowest"]["plan"]:
                print(f"        {line}")


def machine() -> dict[str, Any]:
    ram = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "ram_gb": ram, "platform": platform.platform(), "python": platform.python_version()}


def git_commit() -> str:
    """HEAD, and "+ uncommitted changes" when the application's files differ from it (a shared tree)."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--", "deskhand", "templates", "static"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    return head + (" + uncommitted changes" if status.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--organizations", type=int, default=10_000,
                        help="company domains; one organization for each domain that a customer is drawn at")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="", help="default: SQLite in the data directory")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per call")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--statements", type=int, default=3, help="SQL statements shown per call")
    parser.add_argument("--plans", action="store_true", help="print the plan of each call's slowest statement")
    parser.add_argument("--data-dir", type=Path, help="use this data directory (kept) instead of a temporary one")
    parser.add_argument("--reuse", action="store_true",
                        help="skip the load: the database (of --data-dir, or --database-url) was loaded before")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument("--quiet", type=float, default=0.0,
                        help="before each measured call, wait (at most 15 min) for the 1-minute load average to drop "
                        "below this (the machine may be shared)")
    parser.add_argument("--vacuum", action="store_true",
                        help="PostgreSQL: VACUUM ANALYZE after the load instead of ANALYZE (what autovacuum would "
                        "have done by now; it sets the visibility map, which index-only scans need)")
    parser.add_argument("--load-only", action="store_true", help="stop after the load (with --keep or --data-dir)")
    args = parser.parse_args()
    if min(args.tickets, args.customers, args.organizations, args.messages, args.requests) < 1:
        parser.error("--tickets, --customers, --organizations, --messages and --requests are at least 1")
    if args.reuse and not args.data_dir:
        parser.error("--reuse needs --data-dir (the data directory of the loaded run)")

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="deskhand-bench-work-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    keep = args.keep or args.data_dir is not None
    database_url = args.database_url or f"sqlite:///{data_dir / 'deskhand.sqlite3'}"
    try:
        configure(data_dir, database_url)
        report = Report(database=database_vendor(), tickets=args.tickets, customers=args.customers,
                        organizations_requested=args.organizations, messages=args.messages, seed=args.seed,
                        requests=args.requests, reused=args.reuse, machine=machine(), commit=git_commit(),
                        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
        rng = random.Random(args.seed)
        from deskhand.agents.models import Agent
        from deskhand.agents.services import issue_token
        from deskhand.core.actors import SYSTEM

        if args.reuse:
            admin = Agent.objects.get(email=ADMIN_EMAIL)
            print(f"Phase 1: skipped (--reuse), {report.database} ({data_dir})", flush=True)
            report.analyzed = True
            report.statistics = "as loaded"
            loaded = data_dir / LOAD_RECORD
            if loaded.exists():  # the load figures of the run that loaded this database
                previous = json.loads(loaded.read_text())
                report.load, report.statistics = previous["load"], previous["statistics"]
            if args.vacuum:
                print("  VACUUM ANALYZE", flush=True)
                report.statistics = analyze(vacuum=True)
        else:
            print(f"Phase 1: loading {args.tickets} tickets, {args.messages} messages, {args.customers} customers "
                  f"into {report.database} ({data_dir})", flush=True)
            admin = Loader(report, rng, data_dir, vacuum=args.vacuum).run()
            (data_dir / LOAD_RECORD).write_text(json.dumps({
                "database_url": args.database_url or "sqlite", "load": report.load,
                "statistics": report.statistics}, indent=2) + "\n")
        count_rows(report)
        report.database_bytes = database_bytes(data_dir)
        report.autovacuum = autovacuum_setting()
        if args.load_only:
            print_report(report, statements=0, plans=False)
            return
        data = targets(rng)
        traffic = Traffic(rng, data)
        _token, plain = issue_token(admin, name="bench", actor=SYSTEM)
        if not has_route("/api/v1/tickets"):
            raise SystemExit("GET /api/v1/tickets is not routed yet (deskhand/api/routers/work.py).")
        web_page = has_route(f"/tickets/{data.ticket_ids[0]}")
        report.web_item_page = "measured" if web_page else "not routed in this tree: measured through the API only"
        report.load_1min_start = load()
        report.commit = git_commit()  # the code the server runs (the load may have taken a while)
        print(f"Phase 2: HTTP against deskhand serve ({args.requests} requests per call)", flush=True)
        with running_server(data_dir) as base:
            measure_http(report, base, plain, traffic, args.requests, web_page, args.quiet)
        print(f"Phase 3: SQL per request, in-process ({PROFILE_REQUESTS} requests per call)", flush=True)
        profile_queries(report, plain, admin, traffic, data, web_page)
        print_report(report, statements=args.statements, plans=args.plans)
        if args.json:
            args.json.write_text(json.dumps(asdict(report), indent=2, default=str) + "\n")
            print(f"\n  figures written to {args.json}")
    except BaseException:
        log = data_dir / "serve.log"
        if log.exists():
            print(f"--- last lines of {log}:", *log.read_text(errors="replace").splitlines()[-30:], sep="\n",
                  file=sys.stderr)
        raise
    finally:
        if keep:
            print(f"  data directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
