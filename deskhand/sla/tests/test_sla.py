"""SLA clocks through the work services, the automations and the sweep."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from deskhand.automations.rules import Action, ActionType, ItemKind, Rule, Trigger, TriggerType
from deskhand.automations.services import create_automation
from deskhand.core.actors import Actor
from deskhand.core.errors import Invalid
from deskhand.sla.inputs import HoursInput, PolicyInput, TargetInput
from deskhand.sla.models import ItemSla, SlaPolicy
from deskhand.sla.services import create_policy, sla_state, sweep, sweep_and_automate
from deskhand.work.inputs import ItemChanges, ItemDraft
from deskhand.work.models import Item, MessageKind
from deskhand.work.queries import item_events
from deskhand.work.services.items import change_item, submit_ticket
from deskhand.work.services.messages import add_message


@pytest.fixture
def policy(admin_actor: Actor) -> SlaPolicy:
    return create_policy(PolicyInput("Standard", [TargetInput("normal", 60, 480), TargetInput("urgent", 15, 120)]),
                         actor=admin_actor)


@pytest.fixture
def with_sla(admin_actor: Actor, policy: SlaPolicy) -> None:
    create_automation(Rule("Every ticket gets the SLA", ItemKind.TICKET, Trigger(TriggerType.CREATED),
                           actions=(Action(ActionType.APPLY_SLA, sla=policy.pk),)), actor=admin_actor)


def ticket(actor: Actor, **values: Any) -> Item:
    return submit_ticket(ItemDraft(title="Printer", requester_email="zoe@acme.example", **values), actor=actor)


def clock(item: Item) -> ItemSla:
    return ItemSla.objects.get(item=item)


def test_a_new_ticket_gets_dues_by_priority(with_sla: None, agent_actor: Actor) -> None:
    normal, urgent = ticket(agent_actor), ticket(agent_actor, priority="urgent")
    assert clock(normal).first_response_due == normal.created_at + datetime.timedelta(minutes=60)
    assert clock(urgent).resolution_due == urgent.created_at + datetime.timedelta(minutes=120)
    change_item(normal, changes=ItemChanges(priority="urgent"), actor=agent_actor)
    assert clock(normal).first_response_due == normal.created_at + datetime.timedelta(minutes=15)


def test_the_first_reply_and_done_meet_the_targets(with_sla: None, agent_actor: Actor) -> None:
    item = ticket(agent_actor)
    add_message(item, kind=MessageKind.REPLY, body="On it.", actor=agent_actor)
    assert clock(item).first_responded_at is not None
    change_item(item, changes=ItemChanges(status="done"), actor=agent_actor)
    assert clock(item).resolved_at is not None and sla_state(clock(item)) == "met"
    change_item(item, changes=ItemChanges(status="open"), actor=agent_actor)
    assert clock(item).resolved_at is None


def test_pending_stops_the_clock(with_sla: None, agent_actor: Actor) -> None:
    item = ticket(agent_actor)
    due = clock(item).resolution_due
    change_item(item, changes=ItemChanges(status="pending"), actor=agent_actor)
    assert clock(item).paused_at is not None and sla_state(clock(item)) == "paused"
    ItemSla.objects.filter(item=item).update(paused_at=timezone.now() - datetime.timedelta(minutes=30))
    change_item(item, changes=ItemChanges(status="open"), actor=agent_actor)
    resumed = clock(item)
    assert resumed.paused_at is None and resumed.paused_minutes == 30
    assert resumed.resolution_due == due + datetime.timedelta(minutes=30)


def test_the_sweep_marks_breaches_once_and_runs_the_breach_rules(with_sla: None, admin_actor: Actor,
                                                                  agent_actor: Actor) -> None:
    create_automation(Rule("Escalate a breach", ItemKind.TICKET, Trigger(TriggerType.SLA_BREACHED),
                           actions=(Action(ActionType.SET_PRIORITY, value="high"),)), actor=admin_actor)
    item = ticket(agent_actor)
    later = timezone.now() + datetime.timedelta(minutes=61)
    assert sweep_and_automate(now=later) == 2  # at risk (48 min) and first response (60 min)
    assert sweep(now=later) == []
    item.refresh_from_db()
    assert item.priority_key == "high" and sla_state(clock(item)) == "breached"
    actions = [event.action for event in item_events(item)]
    assert actions.count("sla.breached") == 1 and "sla.at_risk" in actions


@pytest.mark.parametrize(("new", "field"), [
    (PolicyInput("", [TargetInput("normal", 60)]), "name"),
    (PolicyInput("X", []), "targets"),
    (PolicyInput("X", [TargetInput("critical", 60)]), "targets.0.priority"),
    (PolicyInput("X", [TargetInput("normal", 0)]), "targets.0.first_response_minutes"),
    (PolicyInput("X", [TargetInput("normal")]), "targets.0"),
    (PolicyInput("X", [TargetInput("normal", 5), TargetInput("normal", 6)]), "targets.1.priority"),
    (PolicyInput("X", [TargetInput("normal", 5)], HoursInput(days=(7,))), "business_hours.days"),
    (PolicyInput("X", [TargetInput("normal", 5)], HoursInput(start="9am")), "business_hours.start"),
    (PolicyInput("X", [TargetInput("normal", 5)], HoursInput(start="18:00")), "business_hours.end"),
    (PolicyInput("X", [TargetInput("normal", 5)], HoursInput(time_zone="Mars/Base")), "business_hours.time_zone"),
    (PolicyInput("X", [TargetInput("normal", 5)], holidays=("Christmas",)), "holidays.0"),
])
def test_bad_policies_name_the_field(admin_actor: Actor, new: PolicyInput, field: str) -> None:
    with pytest.raises(Invalid) as error:
        create_policy(new, actor=admin_actor)
    assert error.value.field == field
    assert not SlaPolicy.objects.exists()


def test_lists_filter_by_sla_state(with_sla: None, api: Any, agent_actor: Actor) -> None:
    late, fine = ticket(agent_actor), ticket(agent_actor)
    ticket(agent_actor)  # running
    ItemSla.objects.filter(item=late).update(first_response_breached_at=timezone.now())
    ItemSla.objects.filter(item=fine).update(at_risk_due=timezone.now() - datetime.timedelta(minutes=1))

    def ids(state: str) -> list[int]:
        response = api.get("/tickets", {"sla": state})
        assert response.status_code == 200, response.content
        return sorted(row["id"] for row in response.json()["items"])

    assert ids("breached") == [late.pk] and ids("at_risk") == [fine.pk]
    assert len(ids("running")) == 1 and ids("none") == []
    assert api.get("/tickets", {"sla": "late"}).status_code == 422


def test_the_report_by_organization_agent_and_month(with_sla: None, agent_actor: Actor, agent: Any,
                                                    api: Any) -> None:
    from django.test import Client

    from deskhand.core.actors import SYSTEM
    from deskhand.customers.services import create_organization
    from deskhand.sla.queries import sla_report
    from deskhand.work.inputs import AssigneeRef

    create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    late = ticket(agent_actor, assignees=[AssigneeRef("agent", agent.pk)])
    ticket(agent_actor)
    ItemSla.objects.filter(item=late).update(resolution_breached_at=timezone.now())
    [acme] = sla_report("organization")
    assert (acme["key"], acme["clocks"], acme["resolution_breached"], acme["attainment"]) == ("Acme", 2, 1, 50.0)
    by_agent = {row["key"]: row for row in sla_report("agent")}
    assert by_agent[agent.email]["breached"] == 1 and by_agent["Nobody"]["breached"] == 0
    assert sla_report("month")[0]["key"] == timezone.now().strftime("%Y-%m")
    client = Client()
    client.force_login(agent)
    page = client.get("/reports/sla?by=organization").content.decode()
    assert "Acme" in page and "50.0 %" in page
    csv = b"".join(client.get("/reports/sla.csv?by=agent").streaming_content).decode()
    assert csv.splitlines()[0].startswith("group,clocks") and agent.email in csv
    body = api.get("/sla-report", {"by": "organization"}).json()
    assert body["count"] == 1 and body["items"][0]["attainment"] == 50.0
    assert api.get("/sla-report", {"by": "weather"}).status_code == 422
