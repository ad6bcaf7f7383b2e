"""The samples of a fresh install: there, switched off, and each one switch away."""

from __future__ import annotations

from deskhand.automations.inputs import AutomationChanges
from deskhand.automations.models import Automation
from deskhand.automations.samples import ensure_samples
from deskhand.automations.services import update_automation
from deskhand.core.actors import Actor
from deskhand.sla.models import ItemSla, SlaPolicy
from deskhand.work.inputs import ItemChanges, ItemDraft
from deskhand.work.models import MessageKind
from deskhand.work.services.items import change_item, submit_ticket
from deskhand.work.services.messages import add_message


def test_installed_once_switched_off(db: object) -> None:
    assert ensure_samples() == 4
    assert set(Automation.objects.values_list("sample", "enabled")) == {
        ("sla", False), ("survey", False), ("task_status", False), ("reopen", False)}
    assert SlaPolicy.objects.get().name == "Sample SLA"
    Automation.objects.filter(sample="survey").delete()
    assert ensure_samples() == 0 and Automation.objects.count() == 3


def test_one_switch_turns_a_sample_on(admin_actor: Actor, agent_actor: Actor) -> None:
    ensure_samples()
    for key in ("sla", "reopen"):
        update_automation(Automation.objects.get(sample=key), changes=AutomationChanges(enabled=True),
                          actor=admin_actor)
    item = submit_ticket(ItemDraft(title="Printer", requester_email="zoe@acme.example"), actor=agent_actor)
    assert ItemSla.objects.get(item=item).policy.name == "Sample SLA"
    change_item(item, changes=ItemChanges(status="pending"), actor=agent_actor)
    add_message(item, kind=MessageKind.CUSTOMER, body="Still broken.", actor=Actor.customer("zoe@acme.example"))
    item.refresh_from_db()
    assert item.status.key == "open"
