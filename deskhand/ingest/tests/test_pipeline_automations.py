"""Mail through the automations: the rules run on a new ticket once its first message is filed."""

from __future__ import annotations

from typing import Any

from deskhand.agents.models import Agent
from deskhand.automations.rules import Action, ActionType, Condition, ItemKind, Op, Rule, Trigger, TriggerType
from deskhand.automations.services import create_automation
from deskhand.core.actors import Actor
from deskhand.work.models import Item
from deskhand.work.queries import item_events


def automation(admin_actor: Actor, *actions: Action, name: str, all: tuple[Condition, ...] = ()) -> Any:
    return create_automation(Rule(name, ItemKind.TICKET, Trigger(TriggerType.CREATED), all=all, actions=actions),
                             actor=admin_actor)


def runs(item: Item) -> list[dict[str, Any]]:
    return [event.changes for event in item_events(item) if event.action == "automation.ran"]


def test_mail_is_routed_after_its_message_is_filed(admin_actor: Actor, agent: Agent) -> None:
    from deskhand.core.actors import SYSTEM
    from deskhand.customers.services import create_organization
    from deskhand.ingest.pipeline import process_ids
    from deskhand.ingest.receive import receive_raw
    from deskhand.mail.services import create_mailbox
    from deskhand.mail.tests.mails import make_mail

    acme = create_organization("Acme Corp", domains=["acme-corp.example"], actor=SYSTEM)
    create_mailbox(address="billing@deskhand.test", actor=admin_actor)
    automation(admin_actor, Action(ActionType.ASSIGN, agent=agent.pk), name="Billing mail to Ana",
               all=(Condition("mailbox", Op.IS, "billing@deskhand.test"), Condition("organization", Op.IS, acme.pk)))
    automation(admin_actor, Action(ActionType.REPLY, body="Thanks {{ requester.name }}, we have {{ item.reference }}."),
               name="Greeting", all=(Condition("text", Op.CONTAINS, "offline"),))
    raw = make_mail(subject="Printer on floor 2 is offline", to="billing@deskhand.test")
    inbound = receive_raw(raw, process=False, transport="smtp", envelope_from="zoe@acme-corp.example")
    process_ids([inbound.pk])
    inbound.refresh_from_db()
    item = Item.objects.get(pk=inbound.item_id)
    assert list(item.assignees.values_list("agent", flat=True)) == [agent.pk]
    kinds = list(item.messages.order_by("id").values_list("kind", flat=True))
    assert kinds == ["customer", "reply"], kinds
    assert not [e for e in item_events(item) if e.action == "automation.failed"]
    # A reply of the customer is not a "created" event: the rules do not run twice.
    assert [r["name"] for r in runs(item)] == ["Billing mail to Ana", "Greeting"]
