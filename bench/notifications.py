"""Issue 15's notification figure: what the fan-out adds to one customer reply, in-process.

The ticket is assigned to a team of 10 agents (no agent of its own, so the team hears of the
reply) and followed by 5 more agents. Each run files one customer message through
`work.services.messages.add_message` (its own transaction and after-commit enqueues included) and
is timed; runs alternate between notifications on (the default switches: 15 in-app notifications
and 15 mails), notifications in the app only (every agent switched mail off), and notifications off
(the hook replaced by a no-op), so that the machine's load hits all alike. The mails are written
by a task the reply enqueues after its commit (what the reply pays for them is that enqueue); the
bench then runs the task as the worker would and times it apart: "mail task" is the worker's time
for the 15 mails, which no reply waits for. Between runs (untimed) the notifications, outbox rows
and queued tasks are removed, so the hourly mail cap never cuts a run short.

    .venv/bin/python bench/notifications.py [--runs 400] [--database-url postgres://…]

A fresh data directory under /tmp each run (SQLite there unless --database-url)."""

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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400, help="timed replies per mode")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-notifications-"))
    os.environ["DESKHAND_DATA_DIR"] = str(data)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskhand.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    try:
        run(args)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    import deskhand.notifications.services as notifications
    from deskhand.agents.services import create_agent, create_team
    from deskhand.core.actors import SYSTEM, Actor
    from deskhand.mail.models import OutboundMessage
    from deskhand.notifications.models import Notification, NotificationSwitch
    from deskhand.notifications.tasks import mail_notifications
    from deskhand.work.inputs import AssigneeRef, FollowerRef, ItemChanges, ItemDraft
    from deskhand.work.services.items import change_item, submit_ticket
    from deskhand.work.services.messages import add_message
    from deskhand.work.services.statuses import ensure_default_workflow

    ensure_default_workflow()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    admin = create_agent("admin@bench.example", name="Admin", password="correct-horse-9", is_admin=True, actor=SYSTEM)
    actor = Actor.agent(admin)
    members = [create_agent(f"team{n}@bench.example", name=f"Team {n}", actor=actor) for n in range(10)]
    watchers = [create_agent(f"follower{n}@bench.example", name=f"Follower {n}", actor=actor) for n in range(5)]
    team = create_team("First line", members=[m.pk for m in members], actor=actor)
    ticket = submit_ticket(ItemDraft(title="Printer on fire", requester_email="bob@customer.example"), actor=actor)
    change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("team", team.pk)],
                                            followers=[FollowerRef("agent", w.pk) for w in watchers]), actor=actor)
    customer = Actor.customer("bob@customer.example")
    real = notifications.notify_item_events
    everyone = members + watchers

    def mail_off(on: bool) -> None:
        NotificationSwitch.objects.all().delete()
        if on:
            NotificationSwitch.objects.bulk_create([NotificationSwitch(agent=a, event="customer_replied",
                                                                       channel="email", enabled=False)
                                                    for a in everyone])

    modes = ("on", "in-app only", "off")
    timings: dict[str, list[float]] = {mode: [] for mode in (*modes, "mail task")}
    for number in range(args.runs + 20):  # the first 20 rounds warm up
        for mode in modes:
            mail_off(mode == "in-app only")
            notifications.notify_item_events = real if mode != "off" else (lambda events: [])  # type: ignore[assignment]
            Notification.objects.all().delete()
            OutboundMessage.objects.all().delete()
            DBTaskResult.objects.all().delete()
            started = time.perf_counter()
            add_message(ticket, kind="customer", body=f"Still burning ({number}).", actor=customer)
            elapsed = (time.perf_counter() - started) * 1000
            if number >= 20:
                timings[mode].append(elapsed)
            queued = list(DBTaskResult.objects.filter(task_path__endswith=".mail_notifications"))
            started = time.perf_counter()
            for each in queued:
                mail_notifications.call(**each.args_kwargs["kwargs"])
            if queued and number >= 20:
                timings["mail task"].append((time.perf_counter() - started) * 1000)
            expected = {"on": (15, 15), "in-app only": (15, 0), "off": (0, 0)}[mode]
            assert (Notification.objects.count(), OutboundMessage.objects.filter(kind="notification").count()) \
                == expected, mode
    notifications.notify_item_events = real  # type: ignore[assignment]
    base50, base95 = statistics.median(timings["off"]), percentile(timings["off"], 0.95)
    print(f"database: {settings.DATABASE_VENDOR}; {args.runs} replies per mode; team of 10 + 5 agent followers")
    for mode in (*modes, "mail task"):
        p50, p95 = statistics.median(timings[mode]), percentile(timings[mode], 0.95)
        added = "" if mode in ("off", "mail task") else f"   added: p50 {p50 - base50:+.2f} ms, p95 {p95 - base95:+.2f} ms"
        print(f"{mode:>12}: p50 {p50:6.2f} ms  p95 {p95:6.2f} ms{added}")


if __name__ == "__main__":
    main()
