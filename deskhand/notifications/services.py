"""Notifications for agents: the fan-out from item events to the agents who should hear of them,
in the app (the bell) and by mail, and what agents do with them (read them, choose what they get).

`notify_item_events` runs inside the work services' transaction, beside the SLA clocks and the
automations (`work.services._common.automate`): a handful of reads for the whole batch, one insert
of the in-app rows and one of the outbox rows. Nobody hears of their own change."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from deskhand.agents.models import Agent, Team
from deskhand.audit.services import record
from deskhand.automations.events import ItemEvent
from deskhand.core.actors import Actor
from deskhand.core.errors import Forbidden, Invalid, NotFound
from deskhand.mail.models import Mailbox, OutboundMessage
from deskhand.mail.outbound import NewOutbound, queue_outbound, render_mail
from deskhand.notifications.mentions import agent_handles, excerpt, mentioned_handles
from deskhand.notifications.models import DEFAULTS, Channel, Event, Notification, NotificationSwitch
from deskhand.work.models import Assignee, Follower, Item

# What the work services hand over for an internal note (its text in changes["text"]).
NOTE_ADDED = "note_added"
MAIL_KIND = "notification"
# Notification mails to one agent in an hour; past it the bell still rings. The last guard
# against a loop nobody foresaw (an auto-responder that answers into a ticket, say).
EMAILS_PER_HOUR = 30
# Notification mails one task writes (a rule assigning a thousand tickets to a team queues several).
MAILS_PER_TASK = 200
_PEOPLE_EVENTS = ("customer_replied", "sla_at_risk")
# How long the bell keeps a notification: read ones a quarter, unread ones a year (the item itself
# stays; an unread notice that old tells nobody anything). The sweep deletes at most this many a
# round, so a first run on a large table never holds the database long.
KEEP_READ = datetime.timedelta(days=90)
KEEP_UNREAD = datetime.timedelta(days=365)
FORGET_BATCH = 1000


@dataclass(frozen=True)
class Planned:
    """One agent to tell about one event on one item."""

    agent_id: int
    item_id: int
    event: str
    actor: Actor
    excerpt: str = ""


@dataclass(frozen=True)
class Person:
    """What the fan-out needs of an agent: where to mail them, how to name them, in which language."""

    email: str
    name: str
    language: str
    active: bool

    @property
    def display_name(self) -> str:
        return self.name or self.email


@dataclass(frozen=True)
class Plan:
    """Who hears of what (before their switches), and the agents the reads met on the way."""

    planned: list[Planned]
    people: dict[int, Person]


# An agent's columns as each read of recipients takes them along (saves a read of the agents).
_PERSON = ("email", "name", "language", "is_active")


def _person(row: Sequence[Any]) -> Person:
    email, name, language, active = row
    return Person(str(email), str(name or ""), str(language or ""), bool(active))


def _wanted(event: ItemEvent) -> bool:
    if event.type == "updated":
        return "assignees" in event.changes
    return event.type in ("created", NOTE_ADDED, *_PEOPLE_EVENTS)


def notify_item_events(events: Sequence[ItemEvent]) -> list[Notification]:
    """Tell the agents concerned about what happened, in the caller's transaction: assigned to
    them or their team, a customer replied or an SLA is at risk on an item they are assigned to or
    follow (an item assigned to a team only: its members), a mention in a note. Each agent's
    switches decide the channels; the agent who made the change hears nothing. Returns the in-app
    notifications written."""
    wanted = [event for event in events if _wanted(event)]
    if not wanted:
        return []
    return deliver(plan_notifications(wanted))


def _refs(values: Any) -> set[str]:
    return {str(value) for value in values or ()}


def plan_notifications(events: Sequence[ItemEvent]) -> Plan:
    """Who hears of what (before their switches), read in a few queries for the whole batch; each
    read brings the recipients' addresses, names and languages along."""
    people: dict[int, Person] = {}
    assigned_items = [e.item_id for e in events if e.type in ("created", *_PEOPLE_EVENTS)]
    agent_assignees: dict[int, list[int]] = defaultdict(list)
    team_assignees: dict[int, list[int]] = defaultdict(list)
    if assigned_items:
        for item_id, agent_id, team_id, *person in Assignee.objects.filter(item_id__in=assigned_items).values_list(
                "item_id", "agent_id", "team_id", *(f"agent__{column}" for column in _PERSON)):
            if agent_id is not None:
                agent_assignees[item_id].append(agent_id)
                people[agent_id] = _person(person)
            else:
                team_assignees[item_id].append(team_id)
    people_items = [e.item_id for e in events if e.type in _PEOPLE_EVENTS]
    followers: dict[int, list[int]] = defaultdict(list)
    if people_items:
        for item_id, agent_id, *person in Follower.objects.filter(
                item_id__in=people_items, agent__isnull=False).values_list(
                "item_id", "agent_id", *(f"agent__{column}" for column in _PERSON)):
            followers[item_id].append(agent_id)
            people[agent_id] = _person(person)

    # The teams whose members are needed: newly assigned ones, and those of items no agent has.
    added: dict[int, tuple[set[int], set[int]]] = {}
    for event in events:
        if event.type == "updated":
            old, new = event.changes["assignees"]
            refs = _refs(new) - _refs(old)
            added[id(event)] = ({int(r[6:]) for r in refs if r.startswith("agent:")},
                                {int(r[5:]) for r in refs if r.startswith("team:")})
        elif event.type == "created":
            added[id(event)] = (set(agent_assignees.get(event.item_id, ())), set(team_assignees.get(event.item_id, ())))
    team_ids = {team for _agents, teams in added.values() for team in teams}
    team_ids |= {team for item_id in people_items if not agent_assignees.get(item_id)
                 for team in team_assignees.get(item_id, ())}
    members: dict[int, list[int]] = defaultdict(list)
    team_names: dict[int, str] = {}
    if team_ids:
        for team_id, agent_id, name, *person in Team.members.through.objects.filter(team_id__in=team_ids).values_list(
                "team_id", "agent_id", "team__name", *(f"agent__{column}" for column in _PERSON)):
            members[team_id].append(agent_id)
            team_names[team_id] = name
            people[agent_id] = _person(person)

    handles = _handles([e for e in events if e.type == NOTE_ADDED], people)
    planned: list[Planned] = []
    for event in events:
        def tell(agent_id: int, kind: str, text: str = "", event: ItemEvent = event) -> None:
            if agent_id != event.actor.agent_id:
                planned.append(Planned(agent_id, event.item_id, kind, event.actor, text))

        if event.type in ("created", "updated"):
            agents, teams = added[id(event)]
            for agent_id in sorted(agents):
                tell(agent_id, Event.ASSIGNED)
            for team_id in sorted(teams):
                for agent_id in members.get(team_id, ()):
                    if agent_id not in agents:
                        tell(agent_id, Event.TEAM_ASSIGNED, team_names.get(team_id, ""))
        elif event.type in _PEOPLE_EVENTS:
            kind = Event.CUSTOMER_REPLIED if event.type == "customer_replied" else Event.SLA_AT_RISK
            people_ids = list(agent_assignees.get(event.item_id, ()))
            if not people_ids:
                people_ids = [a for team_id in team_assignees.get(event.item_id, ()) for a in members.get(team_id, ())]
            for agent_id in dict.fromkeys([*people_ids, *followers.get(event.item_id, ())]):
                tell(agent_id, kind)
        else:
            text = str((event.changes.get("text") or (None, ""))[1] or "")
            for agent_id in sorted({a for handle in mentioned_handles(text) for a in handles.get(handle, ())}):
                tell(agent_id, Event.MENTIONED, excerpt(text))
    return Plan(_deduplicated(planned), people)


def _handles(notes: Sequence[ItemEvent], people: dict[int, Person]) -> dict[str, list[int]]:
    """Handle → active agents, read only when a note mentions someone (the agents join `people`)."""
    if not any(mentioned_handles(str((e.changes.get("text") or (None, ""))[1] or "")) for e in notes):
        return {}
    found: dict[str, list[int]] = defaultdict(list)
    for pk, *person in Agent.objects.filter(is_active=True).values_list("pk", *_PERSON):
        people[pk] = each = _person(person)
        for handle in agent_handles(each.email, each.name):
            found[handle].append(pk)
    return found


def _deduplicated(planned: list[Planned]) -> list[Planned]:
    """Each agent hears of an event on an item once; assigned to them beats assigned to their team."""
    seen: set[tuple[int, int, str]] = set()
    direct = {(p.agent_id, p.item_id) for p in planned if p.event == Event.ASSIGNED}
    kept = []
    for each in planned:
        key = (each.agent_id, each.item_id, each.event)
        if key in seen or (each.event == Event.TEAM_ASSIGNED and key[:2] in direct):
            continue
        seen.add(key)
        kept.append(each)
    return kept


def deliver(plan: Plan) -> list[Notification]:
    """Write the in-app notifications (one insert) and queue the mails that the recipients'
    switches ask for; inactive agents get neither."""
    planned, people = plan.planned, dict(plan.people)
    if not planned:
        return []
    recipients = {p.agent_id for p in planned}
    # Agents no read of recipients met: those assigned by a change, and the agents who acted.
    missing = (recipients | {p.actor.agent_id for p in planned if p.actor.agent_id}) - people.keys()
    if missing:
        people.update((pk, _person(person)) for pk, *person in
                      Agent.objects.filter(pk__in=missing).values_list("pk", *_PERSON))
    switches = {(agent_id, event, channel): enabled for agent_id, event, channel, enabled in
                NotificationSwitch.objects.filter(agent_id__in=recipients).values_list(
                    "agent_id", "event", "channel", "enabled")}

    def on(each: Planned, channel: str) -> bool:
        return switches.get((each.agent_id, each.event, channel), DEFAULTS[(each.event, channel)])

    live = [p for p in planned if p.agent_id in people and people[p.agent_id].active]
    now = timezone.now()
    rows = [Notification(agent_id=p.agent_id, item_id=p.item_id, event=p.event, actor_label=_who(p.actor, people),
                         excerpt=p.excerpt[:300], created_at=now) for p in live if on(p, Channel.IN_APP)]
    Notification.objects.bulk_create(rows)
    # The mails are written by a task after the commit: rendering and writing fifteen outbox rows
    # would hold the reply's transaction (and SQLite's one writer) for longer than all the rest.
    mails = [MailNotice(p.agent_id, p.item_id, p.event, _who(p.actor, people), p.actor.label, p.excerpt[:300])
             for p in live if on(p, Channel.EMAIL)]
    for start in range(0, len(mails), MAILS_PER_TASK):
        chunk = [mail.as_args() for mail in mails[start:start + MAILS_PER_TASK]]
        transaction.on_commit(partial(_enqueue_mails, chunk))
    return rows


def _enqueue_mails(mails: list[list[Any]]) -> None:
    from deskhand.notifications.tasks import mail_notifications  # the task module imports this one

    mail_notifications.enqueue(mails=mails)


def _who(actor: Actor, people: Mapping[int, Person]) -> str:
    """The actor as a person reads them: an agent's name, else the label (a customer's address)."""
    if actor.agent_id and actor.agent_id in people:
        return people[actor.agent_id].display_name[:300]
    return actor.label[:300]


def _thread_host() -> str:
    return urlsplit(settings.PUBLIC_ORIGIN).hostname or "deskhand.localhost"


def thread_id(item_id: int, agent_id: int, *, host: str = "") -> str:
    """The Message-ID every notification mail about one item to one agent answers: never sent
    itself, it makes mail clients group them (as GitHub's notifications do)."""
    return f"<notifications.item-{item_id}.agent-{agent_id}@{host or _thread_host()}>"


def _hourly_counts(keys: Iterable[str]) -> dict[str, int]:
    since = timezone.now() - datetime.timedelta(hours=1)
    return dict(OutboundMessage.objects.filter(
        kind=MAIL_KIND, auto_submitted=True, recipient_key__in=set(keys), created_at__gte=since)
        .values("recipient_key").annotate(count=Count("id")).values_list("recipient_key", "count"))


@dataclass(frozen=True)
class MailNotice:
    """A notification mail to write (after the event's commit): to whom, about what, said as the
    bell says it; `source` is the address the event came from, which is never mailed."""

    agent_id: int
    item_id: int
    event: str
    who: str
    source: str
    excerpt: str = ""

    def as_args(self) -> list[Any]:
        """The notice as a task's JSON argument."""
        return [self.agent_id, self.item_id, self.event, self.who, self.source, self.excerpt]

    @classmethod
    def from_args(cls, args: Sequence[Any]) -> MailNotice:
        agent_id, item_id, event, who, source, text = args
        if event not in Event.values:
            raise Invalid("unknown_notification", f"There is no notification {event}.", field="event")
        return cls(int(agent_id), int(item_id), str(event), str(who)[:300], str(source), str(text)[:300])


@transaction.atomic
def queue_notification_mails(mails: Sequence[MailNotice]) -> list[OutboundMessage]:
    """One mail per notice, threaded per item and agent, marked automatic (RFC 3834), in the
    agent's language; never to an agent deactivated meanwhile, to the address the event came from
    or to a ticket address of ours, and at most EMAILS_PER_HOUR an hour to one agent. Mails that
    say the same (one item, event, actor and language: a customer's reply to a team of ten) are
    rendered once and share the text."""
    if not mails:
        return []
    people = {pk: (str(email), str(language or "")) for pk, email, language in Agent.objects.filter(
        pk__in={m.agent_id for m in mails}, is_active=True).values_list("pk", "email", "language")}
    # Our ticket addresses; the first one sends (what `queue_outbound` would otherwise read again).
    mailboxes = list(Mailbox.objects.order_by("id").values_list("address", flat=True))
    own = {address.lower() for address in mailboxes}
    sender = mailboxes[0] if mailboxes else ""
    sent = _hourly_counts(email.lower() for email, _language in people.values())
    items = Item.objects.only("id", "kind", "title").in_bulk({m.item_id for m in mails})
    host = _thread_host()
    settings_url = f"{settings.PUBLIC_ORIGIN}{reverse('web:profile')}#notifications"
    urls: dict[int, str] = {}
    rendered: dict[tuple[int, str, str, str, str], tuple[str, str, str]] = {}
    batch: list[NewOutbound] = []
    for each in mails:
        email, language = people.get(each.agent_id, ("", ""))
        key = email.lower()
        item = items.get(each.item_id)
        if not key or item is None or key in own or key == each.source.lower() \
                or sent.get(key, 0) >= EMAILS_PER_HOUR:
            continue
        sent[key] = sent.get(key, 0) + 1
        text_key = (item.pk, each.event, each.who, each.excerpt, language)
        if text_key not in rendered:
            if item.pk not in urls:
                path = reverse("web:item-detail", kwargs={"plural": f"{item.kind}s", "item_id": item.pk})
                urls[item.pk] = f"{settings.PUBLIC_ORIGIN}{path}"
            rendered[text_key] = render_mail(MAIL_KIND, {
                "item": item, "event": each.event, "who": each.who, "excerpt": each.excerpt, "url": urls[item.pk],
                "settings_url": settings_url}, language=language)
        batch.append(NewOutbound(kind=MAIL_KIND, to=[email], auto=True, address=sender, language=language,
                                 answering=thread_id(item.pk, each.agent_id, host=host), rendered=rendered[text_key]))
    return queue_outbound(batch)


# --- What an agent does with their notifications -------------------------------------------------

def mark_read(agent: Agent, notification_id: int) -> Notification:
    """One of the agent's own notifications is read (opening it does this)."""
    notification = Notification.objects.filter(pk=notification_id, agent=agent).first()
    if notification is None:
        raise NotFound("notification_not_found", "There is no such notification.", field="notification")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_item_read(item_id: int, *, agent_id: int) -> int:
    """The agent opened the item: their unread notifications about it are read (one UPDATE, on the
    partial index of the agent's unread ones); how many were not."""
    return Notification.objects.filter(agent_id=agent_id, read_at__isnull=True, item_id=item_id).update(
        read_at=timezone.now())


def mark_all_read(agent: Agent) -> int:
    """All the agent's notifications are read; how many were not."""
    return Notification.objects.filter(agent=agent, read_at__isnull=True).update(read_at=timezone.now())


def forget_old_notifications(*, now: datetime.datetime | None = None, limit: int = FORGET_BATCH) -> int:
    """The scheduler's retention sweep: delete the oldest notifications read and older than
    KEEP_READ, then unread and older than KEEP_UNREAD, at most `limit` in all; how many went."""
    now = now or timezone.now()
    doomed = list(Notification.objects.filter(read_at__isnull=False, created_at__lt=now - KEEP_READ)
                  .order_by("created_at").values_list("id", flat=True)[:limit])
    if len(doomed) < limit:
        doomed += Notification.objects.filter(read_at__isnull=True, created_at__lt=now - KEEP_UNREAD).order_by(
            "created_at").values_list("id", flat=True)[:limit - len(doomed)]
    if doomed:
        Notification.objects.filter(pk__in=doomed).delete()
    return len(doomed)


@transaction.atomic
def set_switches(agent: Agent, *, switches: Mapping[tuple[str, str], bool], actor: Actor) -> dict[tuple[str, str], bool]:
    """Which events reach the agent on which channel: every (event, channel) not given keeps its
    default. Stored only where it differs from the default. Agents choose their own."""
    if actor.agent_id != agent.pk and not actor.is_admin:
        raise Forbidden("own_notifications", "Agents choose only their own notifications.")
    for key in switches:
        if key not in DEFAULTS:
            raise Invalid("unknown_notification", f"There is no notification {key[0]} by {key[1]}.",
                          field="notifications")
    chosen = {key: bool(switches.get(key, default)) for key, default in DEFAULTS.items()}
    before = {(event, channel): enabled for event, channel, enabled in
              NotificationSwitch.objects.filter(agent=agent).values_list("event", "channel", "enabled")}
    NotificationSwitch.objects.filter(agent=agent).delete()
    NotificationSwitch.objects.bulk_create([
        NotificationSwitch(agent=agent, event=event, channel=channel, enabled=enabled)
        for (event, channel), enabled in chosen.items() if enabled != DEFAULTS[(event, channel)]])
    changed = {f"{event}.{channel}": {"old": before.get((event, channel), DEFAULTS[(event, channel)]), "new": value}
               for (event, channel), value in chosen.items()
               if before.get((event, channel), DEFAULTS[(event, channel)]) != value}
    if changed:
        record(actor=actor, action="agent.notifications_changed", object_type="agent", object_id=agent.pk,
               object_label=agent.email, changes=changed)
    return chosen
