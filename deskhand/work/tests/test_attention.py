"""What a list row shows for attention (unread customer words, the last message's first line,
other agents on it), and who is on an item page (open_item, heartbeat, leave, present)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM, Actor
from deskhand.work import workspace
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item, ItemPresence
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import add_message
from deskhand.work.services.workspace import heartbeat, leave, open_item

pytestmark = pytest.mark.django_db
CUSTOMER = Actor.customer("bob@acme.example")


def _ticket(title: str = "Printer on fire") -> Item:
    return submit_ticket(ItemDraft(title=title, requester_email="bob@acme.example"), actor=SYSTEM)


def _row(item: Item, agent: Agent, **kwargs: object) -> workspace.Attention:
    item.refresh_from_db()
    return workspace.attention([item], agent_id=agent.pk, **kwargs)[item.pk]  # type: ignore[arg-type]


def test_a_customer_message_is_unread_until_the_agent_opens_the_item(agent: Agent, admin: Agent) -> None:
    item = _ticket()
    add_message(item, kind="customer", body="\n> quoted\nIt is still on fire.\nSecond line", actor=CUSTOMER)

    row = _row(item, agent)
    assert row.unread and row.last_line == "It is still on fire." and row.last_by == "bob@acme.example"

    open_item(item, agent_id=agent.pk)
    assert not _row(item, agent).unread
    assert _row(item, admin).unread  # read per agent


def test_an_answer_by_anyone_makes_it_read_and_a_new_message_unread_again(agent: Agent, admin: Agent) -> None:
    item = _ticket()
    add_message(item, kind="customer", body="Hello?", actor=CUSTOMER)
    add_message(item, kind="reply", body="On it.", actor=Actor.agent(admin))
    assert not _row(item, agent).unread

    add_message(item, kind="customer", body="Thanks, and one more thing", actor=CUSTOMER)
    assert _row(item, agent).unread


def test_the_last_line_names_a_note_as_a_note(agent: Agent, admin: Agent) -> None:
    item = _ticket()
    add_message(item, kind="note", body="Called them back.", actor=Actor.agent(admin))
    row = _row(item, agent)
    assert (row.last_kind, row.last_by, row.last_line) == ("note", admin.display_name, "Called them back.")


def test_other_agents_on_an_item_show_on_its_row_and_page_until_they_leave(agent: Agent, admin: Agent) -> None:
    item = _ticket()
    open_item(item, agent_id=admin.pk)
    open_item(item, agent_id=agent.pk)

    assert _row(item, agent).viewers == [admin.display_name]
    assert workspace.present(item, agent_id=agent.pk) == [workspace.Presence(admin.display_name, typing=False)]

    heartbeat(item, agent_id=admin.pk, typing=True)
    assert workspace.present(item, agent_id=agent.pk)[0].typing

    leave(item, agent_id=admin.pk)
    assert workspace.present(item, agent_id=agent.pk) == []


def test_an_agent_who_stopped_beating_has_left(agent: Agent, admin: Agent) -> None:
    item = _ticket()
    past = timezone.now() - workspace.PRESENT_FOR - datetime.timedelta(seconds=1)
    heartbeat(item, agent_id=admin.pk, now=past)
    assert workspace.present(item, agent_id=agent.pk) == []
    heartbeat(item, agent_id=agent.pk, now=timezone.now() + datetime.timedelta(hours=2))
    assert not ItemPresence.objects.filter(agent=admin).exists()  # old rows are cleared


def test_a_page_of_rows_costs_three_queries(agent: Agent, django_assert_num_queries: object) -> None:
    items = [_ticket(f"T{n}") for n in range(5)]
    for item in items:
        add_message(item, kind="customer", body="Hi", actor=CUSTOMER)
    items = list(Item.objects.filter(pk__in=[i.pk for i in items]))
    with django_assert_num_queries(3):  # type: ignore[operator]
        rows = workspace.attention(items, agent_id=agent.pk)
    assert all(row.unread and row.last_line == "Hi" for row in rows.values())


def test_direction_controls_in_a_name_or_line_are_dropped(agent: Agent) -> None:
    item = _ticket()
    add_message(item, kind="customer", body="Open invoice\u202efdp.exe", actor=CUSTOMER)
    Item.objects.filter(pk=item.pk).update()
    from deskhand.work.models import Message

    Message.objects.filter(item=item).update(author_name="Bob \u202egnp.exe")
    row = _row(item, agent)
    assert "\u202e" not in row.last_line and "\u202e" not in row.last_by
