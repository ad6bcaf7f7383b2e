"""Time-based automations: "3 days after the last customer message", run by the scheduler.

One indexed read per rule and tick: the items (not done) whose moment plus the rule's minutes
passed since the rule's last sweep (all of them, the first time, a batch per tick). Each item
fires once per rule and moment (a Firing row, unique); the rule's row is locked while it is
swept, so two schedulers never both fire it. A new moment (a new customer message, a status
change) makes the item due again."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from deskhand.automations.engine import Outcome, run
from deskhand.automations.events import ItemEvent
from deskhand.automations.models import Automation, Firing
from deskhand.automations.queries import loaded
from deskhand.automations.rules import Since
from deskhand.core.actors import SYSTEM
from deskhand.work.models import Category, Item, Status

SINCE_COLUMNS = {
    Since.CREATED: "created_at",
    Since.LAST_CUSTOMER_MESSAGE: "last_customer_message_at",
    Since.LAST_AGENT_REPLY: "last_agent_reply_at",
    Since.STATUS_CHANGED: "status_changed_at",
}
BATCH = 500


def _sweep_rule(rule_id: int, now: datetime.datetime, limit: int) -> list[Outcome]:
    row = Automation.objects.select_for_update().filter(pk=rule_id, enabled=True).first()
    if row is None:
        return []
    rule = loaded(row)
    trigger = rule.rule.trigger
    if trigger.since is None:
        return []
    column = SINCE_COLUMNS[trigger.since]
    wait = datetime.timedelta(minutes=trigger.minutes)
    open_statuses = Status.objects.filter(kind=row.item_kind).exclude(category=Category.DONE)
    due = Item.objects.filter(kind=row.item_kind, status__in=open_statuses, **{f"{column}__lte": now - wait})
    if row.swept_until is not None:
        due = due.filter(**{f"{column}__gt": row.swept_until - wait})
    fired = Firing.objects.filter(automation=row, item=OuterRef("pk"), since=OuterRef(column))
    batch = list(due.exclude(Exists(fired)).order_by(column, "pk").values_list("pk", column)[:limit])
    Firing.objects.bulk_create([Firing(automation=row, item_id=pk, since=moment) for pk, moment in batch])
    if len(batch) < limit:  # all caught up: next time, only what comes due after now
        row.swept_until = now
        row.save(update_fields=["swept_until"])
    return run([ItemEvent(pk, "elapsed", actor=SYSTEM, automation_id=row.pk) for pk, _moment in batch])


def sweep_elapsed(*, now: datetime.datetime | None = None, limit: int = BATCH) -> list[Outcome]:
    """Fire what time made due, rule by rule, each in its own transaction."""
    now = now or timezone.now()
    outcomes: list[Outcome] = []
    for rule_id in Automation.objects.filter(enabled=True, trigger__type="elapsed").values_list("pk", flat=True):
        with transaction.atomic():
            outcomes += _sweep_rule(rule_id, now, limit)
    return outcomes
