"""Time-based automations through the scheduler's sweep."""

from __future__ import annotations

import datetime

from django.utils import timezone

from deskhand.automations.rules import Action, ActionType, Condition, ItemKind, Op, Rule, Since, Trigger, TriggerType
from deskhand.automations.services import create_automation
from deskhand.automations.sweep import sweep_elapsed
from deskhand.core.actors import Actor
from deskhand.work.inputs import ItemChanges, ItemDraft
from deskhand.work.models import Item, Message, MessageKind
from deskhand.work.services.items import change_item, submit_ticket
from deskhand.work.services.messages import add_message


def later(minutes: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


def test_auto_close_a_pending_ticket_once_per_wait(admin_actor: Actor, agent_actor: Actor) -> None:
    create_automation(Rule("Close after 7 days pending", ItemKind.TICKET,
                           Trigger(TriggerType.ELAPSED, since=Since.STATUS_CHANGED, minutes=7 * 24 * 60),
                           all=(Condition("status", Op.IS, "pending"),),
                           actions=(Action(ActionType.NOTE, body="Closing {{ item.reference }} for lack of news."),
                                    Action(ActionType.SET_STATUS, value="done"))), actor=admin_actor)
    waiting = submit_ticket(ItemDraft(title="Waiting", requester_email="a@acme.example"), actor=agent_actor)
    busy = submit_ticket(ItemDraft(title="Busy", requester_email="b@acme.example"), actor=agent_actor)
    change_item(waiting, changes=ItemChanges(status="pending"), actor=agent_actor)
    assert sweep_elapsed(now=later(60)) == []
    outcomes = sweep_elapsed(now=later(7 * 24 * 60 + 1))
    assert [o.planned.item_id for o in outcomes] == [waiting.pk]
    assert Item.objects.get(pk=waiting.pk).status.key == "done" and Item.objects.get(pk=busy.pk).status.key == "new"
    assert sweep_elapsed(now=later(7 * 24 * 60 + 2)) == []  # once, and a second scheduler finds nothing
    assert Message.objects.filter(item=waiting, kind=MessageKind.NOTE).count() == 1


def test_a_new_moment_makes_an_item_due_again(admin_actor: Actor, agent_actor: Actor) -> None:
    create_automation(Rule("Nudge the team", ItemKind.TICKET,
                           Trigger(TriggerType.ELAPSED, since=Since.LAST_CUSTOMER_MESSAGE, minutes=60),
                           actions=(Action(ActionType.SET_PRIORITY, value="high"),)), actor=admin_actor)
    item = submit_ticket(ItemDraft(title="Hello", requester_email="a@acme.example"), actor=agent_actor)
    assert sweep_elapsed(now=later(30)) == []  # no customer message yet
    add_message(item, kind=MessageKind.CUSTOMER, body="Any news?", actor=Actor.customer("a@acme.example"))
    assert len(sweep_elapsed(now=later(61))) == 1
    change_item(item, changes=ItemChanges(priority="normal"), actor=agent_actor)
    assert sweep_elapsed(now=later(62)) == []
    # The customer writes again an hour and a half later (the clock of this test cannot wait).
    Item.objects.filter(pk=item.pk).update(last_customer_message_at=later(90))
    assert sweep_elapsed(now=later(149)) == []
    assert len(sweep_elapsed(now=later(151))) == 1
    assert Item.objects.get(pk=item.pk).priority_key == "high"
