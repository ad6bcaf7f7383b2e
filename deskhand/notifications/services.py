"""Notifications for agents: the fan-out from item events to the agents who should hear of them,
in the app (the bell) and by mail, and what agents do with them (read them, choose what they get).

`notify_item_events` runs inside the work services' transaction, beside the SLA clocks and the
automations (`work.services._common.automate`): one read for the whole batch and one insert of the
in-app rows; the mails are written by a task after the commit (`queue_notification_mails`).
Nobody hears of their own change."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from deskhand.agents.models import Agent, Team
from deskhand.audit.services import record
from deskhand.automations.events import ItemEvent
from deskhand.core.actors import Actor
from deskhand.core.bidi import without_direction_controls
from deskhand.core.commit import after_commit
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
        """As `Agent.display_name`: without direction controls (the bell and the mails show it)."""
        return without_direction_controls(self.name) or self.email


@dataclass(frozen=True)
class Plan:
    """Who hears of what (before their switches), with what the read met on the way: the agents
    (addresses, names, languages) and the switches of `switched` agents."""

    planned: list[Planned]
    people: dict[int, Person]
    switches: dict[tuple[int, str, str], bool] = field(default_factory=dict)
    switched: frozenset[int] = frozenset()


# An agent's columns as each read of recipients takes them along (saves a read of the agents).
_PERSON = ("email", "name", "language", "is_active")
def _person(row: Sequence[Any]) -> Person:
    email, name, language, active = row
    return Person(str(email), str(name or ""), str(language or ""), bool(active))


@dataclass
class _Read:
    agent_assignees: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    team_assignees: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    followers: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    members: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    team_names: dict[int, str] = field(default_factory=dict)
    people: dict[int, Person] = field(default_factory=dict)
    switches: dict[tuple[int, str, str], bool] = field(default_factory=dict)


def _marks(values: Collection[int]) -> str:
    return ", ".join(["%s"] * len(values))


def _read(*, assigned_items: list[int], people_items: list[int], teams: set[int], agents: set[int]) -> _Read:
    """Everything the fan-out needs, in one statement: the items' assignees, the agent followers
    of `people_items`, the members of `teams` and of the teams assigned to `assigned_items`, the
    `agents` themselves, each with their address, name and language, and the switches of all of
    them. Written as SQL (plain enough for SQLite and PostgreSQL alike): the ORM takes longer to
    compile this union than the database takes to answer it, and a reply waits for both."""
    read = _Read()
    assignee, follower = Assignee._meta.db_table, Follower._meta.db_table
    member, team, agent = Team.members.through._meta.db_table, Team._meta.db_table, Agent._meta.db_table
    parts: list[str] = []
    params: list[Any] = []
    if assigned_items:
        parts.append(f"SELECT 'assignee', item_id, agent_id, team_id, '' FROM {assignee} "
                     f"WHERE item_id IN ({_marks(assigned_items)})")
        params += assigned_items
    if people_items:
        parts.append(f"SELECT 'follower', item_id, agent_id, NULL, '' FROM {follower} "
                     f"WHERE item_id IN ({_marks(people_items)}) AND agent_id IS NOT NULL")
        params += people_items
    of_teams = []
    if teams:
        of_teams.append(f"m.team_id IN ({_marks(teams)})")
        params += sorted(teams)
    if assigned_items:
        of_teams.append(f"m.team_id IN (SELECT team_id FROM {assignee} WHERE item_id IN ({_marks(assigned_items)}) "
                        "AND team_id IS NOT NULL)")
        params += assigned_items
    if of_teams:
        parts.append(f"SELECT 'member', m.team_id, m.agent_id, m.team_id, t.name FROM {member} m "
                     f"JOIN {team} t ON t.id = m.team_id WHERE {' OR '.join(of_teams)}")
    if agents:
        parts.append(f"SELECT 'agent', NULL, id, NULL, '' FROM {agent} WHERE id IN ({_marks(agents)})")
        params += sorted(agents)
    if not parts:
        return read
    sql = (f"WITH found (k, ref, ag, tm, tx) AS ({' UNION ALL '.join(parts)}) "
           f"SELECT found.k, found.ref, found.ag, found.tm, found.tx, a.email, a.name, a.language, a.is_active "
           f"FROM found LEFT JOIN {agent} a ON a.id = found.ag "
           f"UNION ALL SELECT 'switch', NULL, s.agent_id, NULL, s.event, s.channel, '', '', s.enabled "
           f"FROM {NotificationSwitch._meta.db_table} s WHERE s.agent_id IN (SELECT ag FROM found)")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for kind, ref, agent_id, team_id, text, *person in rows:
        if kind == "switch":
            read.switches[(agent_id, text, person[0])] = bool(person[3])
            continue
        if agent_id is not None and person[0] is not None:
            read.people[agent_id] = _person(person)
        if kind == "assignee":
            if agent_id is not None:
                read.agent_assignees[ref].append(agent_id)
            else:
                read.team_assignees[ref].append(team_id)
        elif kind == "follower":
            read.followers[ref].append(agent_id)
        elif kind == "member":
            read.members[team_id].append(agent_id)
            read.team_names[team_id] = text
    return read


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
    """Who hears of what (before their switches), read in one statement for the whole batch (and
    one more for the handles when a note mentions someone)."""
    # What an assignment changed: the agents and teams it added.
    added: dict[int, tuple[set[int], set[int]]] = {}
    for event in events:
        if event.type == "updated":
            old, new = event.changes["assignees"]
            refs = _refs(new) - _refs(old)
            added[id(event)] = ({int(r[6:]) for r in refs if r.startswith("agent:")},
                                {int(r[5:]) for r in refs if r.startswith("team:")})
    people_items = list(dict.fromkeys(e.item_id for e in events if e.type in _PEOPLE_EVENTS))
    read = _read(
        assigned_items=list(dict.fromkeys(e.item_id for e in events if e.type in ("created", *_PEOPLE_EVENTS))),
        people_items=people_items,
        teams={team for _agents, teams in added.values() for team in teams},
        # The agents an update assigned and the agents who acted (the mails name them).
        agents={agent for agents, _teams in added.values() for agent in agents}
        | {e.actor.agent_id for e in events if e.actor.agent_id})
    for event in events:
        if event.type == "created":
            added[id(event)] = (set(read.agent_assignees.get(event.item_id, ())),
                                set(read.team_assignees.get(event.item_id, ())))

    switched = frozenset(read.people)  # the read brought the switches of every agent it met
    handles = _handles([e for e in events if e.type == NOTE_ADDED], read.people)
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
                for agent_id in read.members.get(team_id, ()):
                    if agent_id not in agents:
                        tell(agent_id, Event.TEAM_ASSIGNED, read.team_names.get(team_id, ""))
        elif event.type in _PEOPLE_EVENTS:
            kind = Event.CUSTOMER_REPLIED if event.type == "customer_replied" else Event.SLA_AT_RISK
            people_ids = list(read.agent_assignees.get(event.item_id, ()))
            if not people_ids:  # an item assigned to teams only: their members
                people_ids = [a for team_id in read.team_assignees.get(event.item_id, ())
                              for a in read.members.get(team_id, ())]
            for agent_id in dict.fromkeys([*people_ids, *read.followers.get(event.item_id, ())]):
                tell(agent_id, kind)
        else:
            text = str((event.changes.get("text") or (None, ""))[1] or "")
            for agent_id in sorted({a for handle in mentioned_handles(text) for a in handles.get(handle, ())}):
                tell(agent_id, Event.MENTIONED, excerpt(text))
    return Plan(_deduplicated(planned), read.people, read.switches, switched)


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
    planned, people, switches = plan.planned, dict(plan.people), dict(plan.switches)
    if not planned:
        return []
    recipients = {p.agent_id for p in planned}
    # Whom the plan's read did not meet (the agents a note mentions): read here.
    missing = (recipients | {p.actor.agent_id for p in planned if p.actor.agent_id}) - people.keys()
    if missing:
        people.update((pk, _person(person)) for pk, *person in
                      Agent.objects.filter(pk__in=missing).values_list("pk", *_PERSON))
    unswitched = recipients - plan.switched
    if unswitched:
        switches.update(((agent_id, event, channel), enabled) for agent_id, event, channel, enabled in
                        NotificationSwitch.objects.filter(agent_id__in=unswitched).values_list(
                            "agent_id", "event", "channel", "enabled"))

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
        after_commit(_enqueue_mails, chunk)  # the reply stands without them
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
            raise Invalid("unknown_notification", gettext("There is no notification %(event)s.") % {"event": event}, field="event")
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
        raise NotFound("notification_not_found", gettext("There is no such notification."), field="notification")
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
        raise Forbidden("own_notifications", gettext("Agents choose only their own notifications."))
    for key in switches:
        if key not in DEFAULTS:
            raise Invalid("unknown_notification", gettext("There is no notification %(key)s by %(key2)s.") % {"key": key[0], "key2": key[1]},
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
