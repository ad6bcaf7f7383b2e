"""A small hand-built data set for the reports, across Berlin's switch to summer time on
29 March 2026 (01:00 UTC): the tickets go in through the work services, then the clock is moved
(the moments each row records are set to the hand-picked ones, as time passing would set them)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest

from deskhand.agents.models import Agent
from deskhand.agents.services import create_agent
from deskhand.core.actors import Actor
from deskhand.customers.models import Organization
from deskhand.customers.services import create_organization
from deskhand.work.inputs import AssigneeRef, ItemChanges, ItemDraft
from deskhand.work.models import Item, Message
from deskhand.work.services.items import change_item, submit_ticket
from deskhand.work.services.messages import add_message

UTC = datetime.UTC


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment of March 2026, in UTC."""
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@dataclass
class Desk:
    ana: Agent
    bob: Agent
    acme: Organization
    globex: Organization
    tickets: dict[str, Item]


def _ticket(title: str, email: str, *, channel: str, created: datetime.datetime, actor: Actor,
            assignee: Agent | None = None, reply_after: int | None = None, note_after: int | None = None,
            solved: datetime.datetime | None = None, replier: Agent | None = None) -> Item:
    item = submit_ticket(ItemDraft(title=title, description="Help.", requester_email=email,
                                   assignees=[AssigneeRef("agent", assignee.pk)] if assignee else []),
                         channel=channel, actor=actor)
    Item.objects.filter(pk=item.pk).update(created_at=created, status_changed_at=created)
    who = Actor.agent(replier or assignee) if (replier or assignee) else actor
    if note_after is not None:
        note = add_message(item, kind="note", body="Looking into it.", actor=who)
        Message.objects.filter(pk=note.pk).update(created_at=created + datetime.timedelta(seconds=note_after))
    if reply_after is not None:
        reply = add_message(item, kind="reply", body="On it.", actor=who)
        Message.objects.filter(pk=reply.pk).update(created_at=created + datetime.timedelta(seconds=reply_after))
        Item.objects.filter(pk=item.pk).update(first_response_at=created + datetime.timedelta(seconds=reply_after),
                                               first_response_seconds=reply_after)
        # A later reply does not move the first response.
        later = add_message(item, kind="reply", body="Still on it.", actor=who)
        Message.objects.filter(pk=later.pk).update(created_at=created + datetime.timedelta(seconds=reply_after + 999))
    if solved is not None:
        change_item(item, changes=ItemChanges(status="done"), actor=who)
        Item.objects.filter(pk=item.pk).update(status_changed_at=solved, solved_at=solved,
                                               resolution_seconds=(solved - created) // datetime.timedelta(seconds=1))
    item.refresh_from_db()
    return item


@pytest.fixture
def desk(db: Any, admin: Agent, admin_actor: Actor) -> Desk:
    return build_desk(admin_actor)


def build_desk(admin_actor: Actor) -> Desk:
    """The data set (the `desk` fixture of this app; other apps' tests call it from their own)."""
    ana = create_agent("ana@deskhand.test", name="Ana Agent", actor=admin_actor)
    bob = create_agent("bob@deskhand.test", name="Bob Agent", actor=admin_actor)
    acme = create_organization("Acme", domains=["acme.example"], actor=admin_actor)
    globex = create_organization("Globex", domains=["globex.example"], actor=admin_actor)
    tickets = {
        # Before the period (23:30 in Berlin on the 27th), solved on the 29th at 14:00 in Berlin.
        "t0": _ticket("Old", "eve@globex.example", channel="email", created=at(27, 22, 30), actor=admin_actor,
                      solved=at(29, 12), replier=ana),
        # 00:30 on the 28th in Berlin (still the 27th in UTC).
        "t1": _ticket("One", "carl@acme.example", channel="email", created=at(27, 23, 30), actor=admin_actor,
                      assignee=ana, reply_after=3600, solved=at(28, 10)),
        # 23:30 on the 28th in Berlin (UTC+1); a note comes first and is no response.
        "t2": _ticket("Two", "dora@acme.example", channel="portal", created=at(28, 22, 30), actor=admin_actor,
                      assignee=bob, note_after=1800, reply_after=7200),
        # 00:30 on the 30th in Berlin (UTC+2 since the 29th).
        "t3": _ticket("Three", "fred@globex.example", channel="web", created=at(29, 22, 30), actor=admin_actor,
                      assignee=ana, reply_after=14400, solved=at(30, 6)),
        # 23:30 on the 31st in Berlin, no organization, no agent.
        "t4": _ticket("Four", "gina@gmail.com", channel="api", created=at(31, 21, 30), actor=admin_actor,
                      reply_after=36000, replier=ana),
        # 00:30 on 1 April in Berlin: after the period.
        "t5": _ticket("Five", "hal@acme.example", channel="email", created=at(31, 22, 30), actor=admin_actor),
    }
    return Desk(ana, bob, acme, globex, tickets)
