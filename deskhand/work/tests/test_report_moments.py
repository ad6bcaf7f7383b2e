"""`Item.first_response_at` and `Item.solved_at` (and their seconds from creation): what the reports
measure, set once by the work services on every path and backfilled by work/0013 and 0014 for the
items before them."""

from __future__ import annotations

import datetime
import importlib

from django.apps import apps
from django.db import connection

from deskhand.core.actors import Actor
from deskhand.customers.models import Customer
from deskhand.work.inputs import BulkChanges, ItemChanges, ItemDraft
from deskhand.work.models import Item, Message, Status
from deskhand.work.services.items import (
    NewItem,
    bulk_change,
    change_item,
    create_items,
    mark_solved,
    submit_ticket,
    whole_seconds,
)
from deskhand.work.services.messages import NewMessage, add_message, add_messages


def _moments(item: Item) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """The two moments, after checking that their seconds from creation go with them."""
    item.refresh_from_db()
    for moment, seconds in ((item.first_response_at, item.first_response_seconds),
                            (item.solved_at, item.resolution_seconds)):
        assert seconds == (None if moment is None else whole_seconds(moment - item.created_at))
    return item.first_response_at, item.solved_at


def test_the_first_reply_is_the_first_response_and_stays_it(ticket: Item, agent_actor: Actor) -> None:
    requester = ticket.requester
    add_message(ticket, kind="customer", body="Any news?", author_customer=requester, actor=Actor.customer(requester.email))
    add_message(ticket, kind="note", body="Looking.", actor=agent_actor)
    assert _moments(ticket) == (None, None)  # a customer message or a note is no response
    first = add_message(ticket, kind="reply", body="On it.", actor=agent_actor)
    assert _moments(ticket)[0] == first.created_at
    add_message(ticket, kind="reply", body="Still on it.", actor=agent_actor)
    assert _moments(ticket)[0] == first.created_at


def test_a_batch_of_replies_sets_each_item_once(ticket: Item, agent_actor: Actor) -> None:
    other = submit_ticket(ItemDraft(title="Toner", requester_email="cleo@acme.example"), actor=agent_actor)
    answered = add_message(other, kind="reply", body="Ordered.", actor=agent_actor)
    messages = add_messages([NewMessage(item=ticket, kind="reply", body="One.", actor=agent_actor),
                             NewMessage(item=ticket, kind="reply", body="Two.", actor=agent_actor),
                             NewMessage(item=other, kind="reply", body="Again.", actor=agent_actor)])
    assert _moments(ticket)[0] == min(message.created_at for message in messages)
    assert _moments(other)[0] == answered.created_at


def test_the_first_solve_is_kept_through_reopening(ticket: Item, agent_actor: Actor) -> None:
    change_item(ticket, changes=ItemChanges(status="open"), actor=agent_actor)
    assert _moments(ticket)[1] is None
    change_item(ticket, changes=ItemChanges(status="done"), actor=agent_actor)
    ticket.refresh_from_db()
    solved = ticket.solved_at
    assert solved is not None and solved == ticket.status_changed_at
    change_item(ticket, changes=ItemChanges(status="open"), actor=agent_actor)
    assert _moments(ticket)[1] == solved  # reopening keeps the first solve
    change_item(ticket, changes=ItemChanges(status="done"), actor=agent_actor)
    ticket.refresh_from_db()
    assert ticket.solved_at == solved and ticket.status_changed_at > solved


def test_any_done_status_solves(ticket: Item, admin_actor: Actor) -> None:
    Status.objects.create(kind="ticket", key="closed", label="Closed", category="done", position=9)
    change_item(ticket, changes=ItemChanges(status="closed"), actor=admin_actor)
    assert _moments(ticket)[1] is not None


def test_bulk_change_and_the_customer_marking_solved(ticket: Item, agent_actor: Actor) -> None:
    others = [submit_ticket(ItemDraft(title=f"Other {n}", requester_email=f"o{n}@acme.example"), actor=agent_actor)
              for n in range(2)]
    bulk_change(others, changes=BulkChanges(status="done"), actor=agent_actor)
    assert all(_moments(item)[1] is not None for item in others)
    requester = ticket.requester
    mark_solved(ticket, actor=Actor.customer(requester.email))
    ticket.refresh_from_db()
    assert ticket.status.key == "done" and ticket.solved_at == ticket.status_changed_at


def test_created_done_is_solved_at_creation(db: None, agent_actor: Actor) -> None:
    done = submit_ticket(ItemDraft(title="Fixed on the phone", requester_email="dan@acme.example", status="done"),
                         actor=agent_actor)
    done.refresh_from_db()
    assert done.solved_at is not None and done.solved_at == done.status_changed_at and done.resolution_seconds == 0
    assert abs(done.solved_at - done.created_at) < datetime.timedelta(seconds=1)
    customer = Customer.objects.get(email="dan@acme.example")
    batch = create_items([
        NewItem(kind="ticket", title="Imported, solved", requester=customer, actor=agent_actor,
                status=Status.objects.get(kind="ticket", key="done")),
        NewItem(kind="ticket", title="Imported, open", requester=customer, actor=agent_actor,
                status=Status.objects.get(kind="ticket", key="open")),
    ])
    assert [_moments(item)[1] is not None for item in batch] == [True, False]


def test_the_migration_backfills_existing_items(ticket: Item, agent_actor: Actor) -> None:
    """work/0013's backfill on this database (SQLite and PostgreSQL take different statements)."""
    at = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)
    replied = submit_ticket(ItemDraft(title="Replied", requester_email="eva@acme.example"), actor=agent_actor)
    add_message(replied, kind="note", body="Note.", actor=agent_actor)
    for minutes in (30, 10, 20):  # the earliest reply, whatever the order they were written in
        message = add_message(replied, kind="reply", body="Reply.", actor=agent_actor)
        Message.objects.filter(pk=message.pk).update(created_at=at + datetime.timedelta(minutes=minutes))
    change_item(replied, changes=ItemChanges(status="done"), actor=agent_actor)
    reopened = submit_ticket(ItemDraft(title="Reopened", requester_email="fay@acme.example"), actor=agent_actor)
    change_item(reopened, changes=ItemChanges(status="done"), actor=agent_actor)
    change_item(reopened, changes=ItemChanges(status="open"), actor=agent_actor)
    Item.objects.filter(pk=replied.pk).update(status_changed_at=at + datetime.timedelta(hours=5))
    # As the items stood before 0013.
    Item.objects.update(first_response_at=None, solved_at=None, first_response_seconds=None, resolution_seconds=None)

    for name in ("0013_report_moments", "0014_report_seconds"):
        importlib.import_module(f"deskhand.work.migrations.{name}").backfill(apps, connection.schema_editor())

    assert _moments(replied) == (at + datetime.timedelta(minutes=10), at + datetime.timedelta(hours=5))
    assert _moments(ticket) == (None, None)
    assert _moments(reopened) == (None, None)  # open now: its earlier solve is not known


def test_whole_seconds_round_half_away_from_zero() -> None:
    def seconds(value: float) -> int:
        return whole_seconds(datetime.timedelta(seconds=value))

    assert [seconds(v) for v in (0, 1.4999, 1.5, 2.5, 86399.5, -1.5, -0.4)] == [0, 1, 2, 3, 86400, -2, 0]


def test_the_seconds_backfill_rounds_as_the_services_do(db: None, agent_actor: Actor) -> None:
    """work/0014 on this database: half seconds round away from zero on SQLite (whose julianday() is
    microseconds off) and PostgreSQL (whose round() of a double would round to even) alike."""
    created = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)
    items = []
    for n, (first, solved) in enumerate(((1.5, 2.5), (2.5, 3600.5), (0.4, 86399.5))):
        item = submit_ticket(ItemDraft(title=f"Tie {n}", requester_email=f"tie{n}@acme.example"), actor=agent_actor)
        Item.objects.filter(pk=item.pk).update(
            created_at=created, first_response_at=created + datetime.timedelta(seconds=first),
            solved_at=created + datetime.timedelta(seconds=solved), first_response_seconds=None,
            resolution_seconds=None)
        items.append(item)
    importlib.import_module("deskhand.work.migrations.0014_report_seconds").backfill(apps, connection.schema_editor())
    assert [_moments(item) and (item.first_response_seconds, item.resolution_seconds) for item in items] == [
        (2, 3), (3, 3601), (0, 86400)]
