"""Tasks from a ticket: further steps with the ticket's requester and organization, linked both ways."""

from __future__ import annotations

import pytest

from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.errors import Invalid
from deskhand.customers.services import create_organization, move_customer
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item
from deskhand.work.queries import item_events
from deskhand.work.services.items import create_task, create_task_from, submit_ticket


def test_a_task_keeps_the_tickets_requester_and_organization(agent_actor: Actor) -> None:
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    ticket = submit_ticket(ItemDraft(title="New laptop", requester_email="zoe@acme.example"), actor=agent_actor)
    assert ticket.requester is not None
    move_customer(ticket.requester, to=None, actor=agent_actor)  # moved since: the task follows the ticket
    task = create_task_from(ticket, ItemDraft(title="Order the laptop"), actor=agent_actor)
    assert (task.kind, task.requester, task.organization, task.origin) == ("task", ticket.requester, acme, ticket)
    assert list(ticket.tasks.all()) == [task]
    assert any(e.action == "ticket.task_created" and e.changes["task"] == task.reference
               for e in item_events(ticket))


def test_only_from_a_ticket_and_without_another_requester(agent_actor: Actor) -> None:
    ticket = submit_ticket(ItemDraft(title="New laptop", requester_email="zoe@acme.example"), actor=agent_actor)
    other = create_task(ItemDraft(title="Chore"), actor=agent_actor)
    for source, draft, field in [(other, ItemDraft(title="x"), "ticket"),
                                 (ticket, ItemDraft(title="x", requester_email="max@acme.example"), "requester"),
                                 (ticket, ItemDraft(title=""), "title")]:
        with pytest.raises(Invalid) as error:
            create_task_from(source, draft, actor=agent_actor)
        assert error.value.field == field
    assert Item.objects.filter(kind="task").count() == 1
