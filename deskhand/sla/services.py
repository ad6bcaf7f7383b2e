"""SLA policies, applying one to items, and running each item's clock: paused while the item
is pending on the customer, stopped by the first agent reply and by done, restarted by a
reopen, and recomputed when the priority changes. `sweep` marks what is at risk or breached."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from deskhand.audit import services as audit
from deskhand.audit.services import record, record_many
from deskhand.automations.events import ItemEvent
from deskhand.config.queries import get_setting
from deskhand.core.actors import SYSTEM, Actor, ActorKind
from deskhand.core.bulk import insert_rows
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.core.inputs import UNSET
from deskhand.core.text import clean_text
from deskhand.sla.clock import BusinessHours, add_many, minutes_between
from deskhand.sla.inputs import ClockStart, HoursInput, PolicyChanges, PolicyInput, TargetInput
from deskhand.sla.models import ItemSla, SlaPolicy, SlaTarget
from deskhand.work.models import Category, Item, Priority
from deskhand.work.services._common import ITEM_OBJECT, automate, item_event

MAX_TARGET_MINUTES = 366 * 24 * 60
CLOCK_FIELDS = ("item_id", "policy_id", "started_at", "first_response_due", "resolution_due", "first_responded_at",
                "resolved_at", "paused_at", "paused_minutes", "first_response_breached_at", "resolution_breached_at",
                "at_risk_due", "at_risk_at")
TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
SWEEP_BATCH = 500


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can change SLA policies."))


def hours_of(policy: SlaPolicy) -> BusinessHours:
    return BusinessHours(always=policy.always, days=frozenset(policy.days), start=policy.start, end=policy.end,
                         zone=policy.time_zone, holidays=frozenset(datetime.date.fromisoformat(d)
                                                                    for d in policy.holidays))


def _priority(value: str, field: str) -> int:
    for priority in Priority:
        if priority.key == value:
            return int(priority)
    raise Invalid("unknown_priority", gettext("Priority is low, normal, high or urgent."), field=field)


def _minutes(value: int | None, field: str) -> int | None:
    if value is not None and not 1 <= value <= MAX_TARGET_MINUTES:
        raise Invalid("invalid_minutes", gettext("A target is 1 to %(value)s minutes.") % {"value": MAX_TARGET_MINUTES}, field=field)
    return value


def _targets(targets: Sequence[TargetInput]) -> list[SlaTarget]:
    if not targets or len(targets) > 4:
        raise Invalid("targets_required", gettext("Give a target for one to four priorities."), field="targets")
    rows: dict[int, SlaTarget] = {}
    for index, target in enumerate(targets):
        at = f"targets.{index}"
        priority = _priority(target.priority, f"{at}.priority")
        if priority in rows:
            raise Invalid("duplicate_priority", gettext("%(priority)s has two targets.") % {"priority": target.priority}, field=f"{at}.priority")
        first = _minutes(target.first_response_minutes, f"{at}.first_response_minutes")
        resolution = _minutes(target.resolution_minutes, f"{at}.resolution_minutes")
        if first is None and resolution is None:
            raise Invalid("target_required", gettext("Give a first-response or a resolution time."), field=at)
        rows[priority] = SlaTarget(priority=priority, first_response_minutes=first, resolution_minutes=resolution)
    return list(rows.values())


def _hours(policy: SlaPolicy, hours: HoursInput | None) -> None:
    if hours is None:
        policy.always = True
        return
    days = sorted(set(hours.days))
    if not days or any(not 0 <= day <= 6 for day in days):
        raise Invalid("invalid_days", gettext("Days are 0 (Monday) to 6 (Sunday), at least one."),
                      field="business_hours.days")
    times = []
    for name, value in (("start", hours.start), ("end", hours.end)):
        match = TIME.fullmatch(value)
        if match is None:
            raise Invalid("invalid_time", gettext("A time is HH:MM, such as 09:00."), field=f"business_hours.{name}")
        times.append(datetime.time(int(match[1]), int(match[2])))
    if times[0] >= times[1]:
        raise Invalid("invalid_hours", gettext("The working day ends after it starts."), field="business_hours.end")
    try:
        zoneinfo.ZoneInfo(hours.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid("unknown_time_zone", f"“{hours.time_zone[:60]}” is not a time zone such as Europe/Berlin.",
                      field="business_hours.time_zone") from None
    policy.always, policy.days, policy.start, policy.end = False, days, times[0], times[1]
    policy.time_zone = hours.time_zone


def _holidays(values: Sequence[str | datetime.date]) -> list[str]:
    if len(values) > 400:
        raise Invalid("too_many_holidays", gettext("At most 400 holidays."), field="holidays")
    days = set()
    for index, value in enumerate(values):
        try:
            days.add(value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value))
        except ValueError:
            raise Invalid("invalid_date", gettext("A holiday is a date written YYYY-MM-DD."), field=f"holidays.{index}") from None
    return [day.isoformat() for day in sorted(days)]


def _save(policy: SlaPolicy, targets: list[SlaTarget] | None) -> None:
    try:
        with transaction.atomic():
            policy.save()
            if targets is not None:
                policy.targets.all().delete()
                for target in targets:
                    target.policy = policy
                SlaTarget.objects.bulk_create(targets)
    except IntegrityError:
        raise Conflict("policy_exists", gettext("An SLA policy named “%(name)s” exists already.") % {"name": policy.name}, field="name") from None


def _summary(policy: SlaPolicy) -> dict[str, object]:
    return {"name": policy.name, "always": policy.always, "holidays": policy.holidays,
            "targets": {Priority(t.priority).key: [t.first_response_minutes, t.resolution_minutes]
                        for t in policy.targets.all()}}


@transaction.atomic
def create_policy(new: PolicyInput, *, actor: Actor) -> SlaPolicy:
    _require_admin(actor)
    policy = SlaPolicy(name=clean_text(new.name, field="name", max_length=200, required=True))
    _hours(policy, new.business_hours)
    policy.holidays = _holidays(new.holidays)
    _save(policy, _targets(new.targets))
    record(actor=actor, action="sla_policy.created", object_type="sla_policy", object_id=policy.pk,
           object_label=policy.name, changes=_summary(policy))
    return policy


@transaction.atomic
def update_policy(policy: SlaPolicy, *, changes: PolicyChanges, actor: Actor) -> SlaPolicy:
    """Clocks already running keep the dues they have; new ones follow the new targets."""
    _require_admin(actor)
    before = _summary(policy)
    if changes.name is not UNSET:
        policy.name = clean_text(changes.name, field="name", max_length=200, required=True)
    if changes.business_hours is not UNSET:
        _hours(policy, changes.business_hours)
    if changes.holidays is not UNSET:
        policy.holidays = _holidays(changes.holidays)
    _save(policy, _targets(changes.targets) if changes.targets is not UNSET else None)
    after = _summary(policy)
    record(actor=actor, action="sla_policy.updated", object_type="sla_policy", object_id=policy.pk,
           object_label=policy.name, changes={k: {"old": before[k], "new": v} for k, v in after.items()
                                              if before[k] != v})
    return policy


@transaction.atomic
def delete_policy(policy: SlaPolicy, *, actor: Actor) -> None:
    """The policy and the clocks it runs go; the items stay."""
    _require_admin(actor)
    record(actor=actor, action="sla_policy.deleted", object_type="sla_policy", object_id=policy.pk,
           object_label=policy.name, changes=_summary(policy))
    policy.delete()


# -- clocks ------------------------------------------------------------------------------------


Dues = tuple[datetime.datetime | None, datetime.datetime | None, datetime.datetime | None]


@dataclass(frozen=True)
class _Terms:
    """A policy's targets by priority (first response, resolution minutes) and its hours, read
    once for a batch of clocks."""

    targets: dict[int, tuple[int | None, int | None]]
    hours: BusinessHours


def _terms(policy: SlaPolicy) -> _Terms:
    return _Terms({t.priority: (t.first_response_minutes, t.resolution_minutes) for t in policy.targets.all()},
                  hours_of(policy))


def _dues(terms: _Terms, priority: int, share: int, *, started_at: datetime.datetime, paused: int,
          first_open: bool, resolution_open: bool) -> Dues:
    """First response due, resolution due, and the moment the earliest unmet target becomes at
    risk: from the start, the targets of `priority` and the working minutes the clock stood."""
    first, resolution = terms.targets.get(priority, (None, None))
    risky = [m for m, open_ in ((first, first_open), (resolution, resolution_open)) if m and open_]
    moments = add_many(started_at, [m + paused for m in (first, resolution) if m]
                       + [m * share // 100 + paused for m in risky], terms.hours)
    return (moments[first + paused] if first else None, moments[resolution + paused] if resolution else None,
            min(moments[m * share // 100 + paused] for m in risky) if risky else None)


def _recompute(clock: ItemSla, terms: _Terms, priority: int, share: int) -> None:
    clock.first_response_due, clock.resolution_due, clock.at_risk_due = _dues(
        terms, priority, share, started_at=clock.started_at, paused=clock.paused_minutes,
        first_open=clock.first_responded_at is None, resolution_open=clock.resolved_at is None)


def clock_start(item: Item) -> ClockStart:
    return ClockStart(item_id=item.pk, created_at=item.created_at, priority=item.priority,
                      done=item.status.category == Category.DONE, label=f"{item.reference} {item.title}")


def apply_sla(starts: Sequence[ClockStart], *, policy: SlaPolicy, actor: Actor) -> int:
    """Start (or restart) `policy`'s clock on each item, counted from its creation. Returns how
    many items changed policy."""
    share = int(get_setting("sla_at_risk_percent"))
    policy = SlaPolicy.objects.prefetch_related("targets").get(pk=policy.pk)
    terms = _terms(policy)
    existing = {clock.item_id: clock for clock in ItemSla.objects.filter(item_id__in=[s.item_id for s in starts])}
    now = timezone.now()
    new: list[tuple[object, ...]] = []
    moved: list[ItemSla] = []
    changed = []
    for start in starts:
        clock = existing.get(start.item_id)
        if clock is not None and clock.policy_id == policy.pk:
            continue
        if clock is None:
            # A batch of mail starts thousands of clocks: rows, not instances (CLOCK_FIELDS' order).
            resolved = now if start.done else None
            dues = _dues(terms, start.priority, share, started_at=start.created_at, paused=0, first_open=True,
                         resolution_open=resolved is None)
            new.append((start.item_id, policy.pk, start.created_at, dues[0], dues[1], None, resolved, None, 0, None,
                        None, dues[2], None))
        else:
            clock.policy = policy
            clock.first_response_breached_at = clock.resolution_breached_at = clock.at_risk_at = None
            if start.done and clock.resolved_at is None:
                clock.resolved_at = now
            _recompute(clock, terms, start.priority, share)
            moved.append(clock)
            dues = (clock.first_response_due, clock.resolution_due, clock.at_risk_due)
        if actor.kind == ActorKind.RULE:  # the rule's run entry says so ("SLA … applied")
            continue
        changed.append(audit.event(actor=actor, action="sla.applied", object_type=ITEM_OBJECT, object_id=start.item_id,
                             object_label=start.label, changes={
                                 "policy": policy.name, "first_response_due": _iso(dues[0]),
                                 "resolution_due": _iso(dues[1])}))
    insert_rows(ItemSla, CLOCK_FIELDS, new)
    ItemSla.objects.bulk_update(moved, ["policy", "first_response_breached_at", "resolution_breached_at", "at_risk_at",
                                        "resolved_at", "first_response_due", "resolution_due", "at_risk_due"])
    record_many(changed)
    return len(new) + len(moved)


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def on_item_events(events: Sequence[ItemEvent]) -> None:
    """Move the clocks of these items along: a pause while pending, a stop at the first agent
    reply and at done, a restart on reopening, new dues on a new priority."""
    ids = {event.item_id for event in events if event.type in ("updated", "agent_replied")}
    if not ids:
        return
    clocks = {clock.item_id: clock for clock in ItemSla.objects.filter(item_id__in=ids).select_related("policy")}
    if not clocks:
        return
    now = timezone.now()
    share = int(get_setting("sla_at_risk_percent"))
    for event in events:
        clock = clocks.get(event.item_id)
        if clock is None:
            continue
        if event.type == "agent_replied":
            if clock.first_responded_at is None:
                clock.first_responded_at = now
                clock.at_risk_due = None
                _recompute(clock, _terms(clock.policy), Item.objects.values_list("priority", flat=True).get(
                    pk=event.item_id), share)
                clock.save()
            continue
        category = event.changes.get("status_category")
        priority = event.changes.get("priority")
        if category is None and priority is None:
            continue
        if category is not None:
            old, new = category
            if new == Category.PENDING and clock.paused_at is None:
                clock.paused_at = now
            elif old == Category.PENDING and clock.paused_at is not None:
                clock.paused_minutes += minutes_between(clock.paused_at, now, hours_of(clock.policy))
                clock.paused_at = None
            if new == Category.DONE and clock.resolved_at is None:
                clock.resolved_at = now
            elif old == Category.DONE and new != Category.DONE:
                clock.resolved_at = None
        priority_value = Item.objects.values_list("priority", flat=True).get(pk=event.item_id)
        _recompute(clock, _terms(clock.policy), priority_value, share)
        clock.save()


@dataclass(frozen=True)
class Crossed:
    """A clock that crossed a line in a sweep: `what` is at_risk, first_response or resolution."""

    item_id: int
    what: str


def sweep(*, now: datetime.datetime | None = None, limit: int = SWEEP_BATCH) -> list[Crossed]:
    """Mark the running clocks whose targets are breached or at risk now, with a history row
    each, and return them (the automations' sla triggers run on them). Each is marked once: the
    update is conditional, so two sweeps never both mark one."""
    now = now or timezone.now()
    crossed: list[Crossed] = []
    running = ItemSla.objects.filter(paused_at__isnull=True)
    steps = (
        ("first_response", running.filter(first_responded_at__isnull=True, first_response_breached_at__isnull=True,
                                          first_response_due__lte=now), "first_response_breached_at"),
        ("resolution", running.filter(resolved_at__isnull=True, resolution_breached_at__isnull=True,
                                      resolution_due__lte=now), "resolution_breached_at"),
        ("at_risk", running.filter(at_risk_at__isnull=True, at_risk_due__lte=now), "at_risk_at"),
    )
    for what, due, mark in steps:
        events = []
        for clock in due.select_related("item", "policy").order_by("pk")[:limit]:
            if ItemSla.objects.filter(pk=clock.pk, **{f"{mark}__isnull": True}).update(**{mark: now}):
                crossed.append(Crossed(clock.item_id, what))
                events.append(item_event(clock.item, "sla.breached" if what != "at_risk" else "sla.at_risk",
                                         actor=SYSTEM, changes={"policy": clock.policy.name, "target": what}))
        record_many(events)
    return crossed


def sla_state(clock: ItemSla, *, now: datetime.datetime | None = None) -> str:
    """In one word: met, breached, paused, at_risk or running."""
    now = now or timezone.now()
    if clock.first_response_breached_at or clock.resolution_breached_at:
        return "breached"
    first_met = clock.first_response_due is None or clock.first_responded_at is not None
    if clock.resolved_at is not None and first_met:
        return "met"
    if clock.paused_at is not None:
        return "paused"
    if clock.at_risk_at is not None or (clock.at_risk_due is not None and clock.at_risk_due <= now):
        return "at_risk"
    return "running"


def sla_summary(clock: ItemSla | None) -> dict[str, object] | None:
    """An item's SLA as the API and the pages show it."""
    if clock is None:
        return None
    return {"policy": clock.policy_id, "policy_name": clock.policy.name,
            "first_response_due": clock.first_response_due, "resolution_due": clock.resolution_due,
            "first_responded_at": clock.first_responded_at, "resolved_at": clock.resolved_at,
            "paused": clock.paused_at is not None, "state": sla_state(clock)}


def sweep_and_automate(*, now: datetime.datetime | None = None) -> int:
    """The scheduler's SLA round: mark what crossed a line and run the automations that trigger
    on an SLA breached or at risk, one transaction. Returns how many clocks crossed."""
    with transaction.atomic():
        crossed = sweep(now=now)
        automate([ItemEvent(each.item_id, "sla_at_risk" if each.what == "at_risk" else "sla_breached", actor=SYSTEM)
                  for each in crossed])
    return len(crossed)
