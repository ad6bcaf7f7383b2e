"""The routing section of an organization's profile: what happens to every ticket its members
submit; admins change it there, everyone sees it."""

from __future__ import annotations

from django.test import Client

from deskhand.agents.models import Agent
from deskhand.automations.models import Automation
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.services import create_organization
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket


def test_admins_set_routing_everyone_sees_it(admin_client: Client, agent_client: Client, agent: Agent,
                                             agent_actor: Actor) -> None:
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    page = agent_client.get(f"/organizations/{acme.pk}").content.decode()
    assert "No routing: tickets wait for the team." in page and "Change routing" not in page
    response = admin_client.post(f"/organizations/{acme.pk}/routing", {
        "action-0-type": "assign", "action-0-assignee": f"agent:{agent.pk}", "action-0-mode": "team",
        "action-1-type": "set_priority", "action-1-priority": "high", "action-2-type": ""})
    assert response.status_code == 302
    page = agent_client.get(f"/organizations/{acme.pk}").content.decode()
    assert "Assign to Ana Agent" in page and "Set priority to high" in page
    ticket = submit_ticket(ItemDraft(title="Hello", requester_email="zoe@acme.example"), actor=agent_actor)
    assert list(ticket.assignees.values_list("agent", flat=True)) == [agent.pk]
    assert agent_client.post(f"/organizations/{acme.pk}/routing", {"action-0-type": ""}).status_code == 403
    admin_client.post(f"/organizations/{acme.pk}/routing", {"action-0-type": ""})
    assert not Automation.objects.exists()


def test_a_bad_step_is_refused_and_kept_on_the_page(admin_client: Client) -> None:
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    response = admin_client.post(f"/organizations/{acme.pk}/routing", {
        "action-0-type": "set_priority", "action-0-priority": "", "action-1-type": "note", "action-1-body": "Hi"})
    page = response.content.decode()
    assert response.status_code == 422 and "Choose the value to set." in page and ">Hi</textarea>" in page
    assert not Automation.objects.exists()
