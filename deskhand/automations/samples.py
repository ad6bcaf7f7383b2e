"""The samples a fresh install ships (DESIGN §4): an external help desk's usual rules, each
switched off and one switch away. Installed once; a sample an admin deletes stays deleted."""

from __future__ import annotations

from django.db import transaction

from deskhand.automations.models import Automation
from deskhand.automations.rules import Action, ActionType, Condition, ItemKind, Op, Rule, Trigger, TriggerType
from deskhand.automations.services import create_automation
from deskhand.config.models import Setting
from deskhand.core.actors import SYSTEM
from deskhand.sla.inputs import HoursInput, PolicyInput, TargetInput
from deskhand.sla.models import SlaPolicy
from deskhand.sla.services import create_policy

INSTALLED = "samples_installed"
SAMPLE_SLA = "Sample SLA"
SAMPLE_TARGETS = [TargetInput("urgent", 60, 4 * 60), TargetInput("high", 4 * 60, 2 * 8 * 60),
                  TargetInput("normal", 8 * 60, 5 * 8 * 60), TargetInput("low", 2 * 8 * 60, 10 * 8 * 60)]


def _samples(sla: SlaPolicy) -> dict[str, Rule]:
    return {
        "sla": Rule("Sample: every new ticket gets the sample SLA", ItemKind.TICKET, Trigger(TriggerType.CREATED),
                    actions=(Action(ActionType.APPLY_SLA, sla=sla.pk),), enabled=False),
        "survey": Rule("Sample: a satisfaction survey when a ticket is done", ItemKind.TICKET,
                       Trigger(TriggerType.CHANGED, field="status", to_value="done"),
                       actions=(Action(ActionType.SEND_SURVEY),), enabled=False),
        "task_status": Rule(
            "Sample: tell the requester when a task's status changes", ItemKind.TASK,
            Trigger(TriggerType.CHANGED, field="status"),
            actions=(Action(ActionType.REPLY, body="Hello {{ requester.name }},\n\n{{ item.reference }} "
                            "“{{ item.title }}” is now {{ item.status }}."),), enabled=False),
        "reopen": Rule("Sample: a customer reply reopens the ticket", ItemKind.TICKET,
                       Trigger(TriggerType.CUSTOMER_REPLIED),
                       all=(Condition("status_category", Op.IN, ["pending", "done"]),),
                       actions=(Action(ActionType.SET_STATUS, value="open"),), enabled=False),
    }


@transaction.atomic
def ensure_samples() -> int:
    """Install the samples on a fresh database (switched off). Returns how many were made."""
    if Setting.objects.filter(key=INSTALLED).exists():
        return 0
    sla = SlaPolicy.objects.filter(name=SAMPLE_SLA).first() or create_policy(
        PolicyInput(SAMPLE_SLA, SAMPLE_TARGETS, business_hours=HoursInput()), actor=SYSTEM)
    made = 0
    for key, rule in _samples(sla).items():
        if Automation.objects.filter(sample=key).exists():
            continue
        row = create_automation(rule, actor=SYSTEM)
        Automation.objects.filter(pk=row.pk).update(sample=key)
        made += 1
    Setting.objects.create(key=INSTALLED, value=True)
    return made
