"""automations.queries.rules_for: the rules an event may fire, parsed once per version."""

from __future__ import annotations

from deskhand.automations.inputs import AutomationChanges
from deskhand.automations.models import Automation
from deskhand.automations.queries import rules_for
from deskhand.automations.rules import Action, ActionType, Condition, ItemKind, Op, Rule, Trigger, TriggerType
from deskhand.automations.services import create_automation, delete_automation, update_automation
from deskhand.core.actors import Actor
from deskhand.customers.models import Organization


def _rule(name: str, *conditions: Condition) -> Rule:
    return Rule(name, ItemKind.TICKET, Trigger(TriggerType.CREATED), all=conditions,
                actions=(Action(ActionType.SET_PRIORITY, value="high"),))


def test_every_change_of_a_rule_is_seen_by_the_next_read(admin_actor: Actor, acme: Organization) -> None:
    general = create_automation(_rule("General"), actor=admin_actor)
    routing = create_automation(_rule("Acme", Condition("organization", Op.IS, acme.pk)), actor=admin_actor)
    assert [r.rule.name for r in rules_for({"ticket"}, [None])] == ["General"]
    assert [r.rule.name for r in rules_for({"ticket"}, [acme.pk])] == ["General", "Acme"]
    update_automation(general, changes=AutomationChanges(name="Renamed", actions=(
        Action(ActionType.SET_PRIORITY, value="urgent"),)), actor=admin_actor)
    [renamed] = rules_for({"ticket"}, [None])
    assert renamed.rule.name == "Renamed" and renamed.rule.actions[0].value == "urgent"
    Automation.objects.filter(pk=general.pk).update(enabled=False)  # as a rule failing three times is
    assert rules_for({"ticket"}, [None]) == []
    delete_automation(routing, actor=admin_actor)
    assert rules_for({"ticket"}, [acme.pk]) == []
    assert rules_for({"task"}, [acme.pk]) == []
