"""/api/v1/sla-policies and a ticket's `sla` as DESIGN §7 shows them."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.conftest import ApiClient
from deskhand.sla.models import SlaPolicy

POLICY = {"name": "Standard", "targets": [{"priority": "normal", "first_response_minutes": 60,
                                           "resolution_minutes": 480},
                                          {"priority": "urgent", "first_response_minutes": 15}]}


def test_policies_and_a_ticket_under_one(api: ApiClient) -> None:
    created = api.post("/sla-policies", POLICY)
    assert created.status_code == 201, created.content
    policy = created.json()
    assert policy["targets"] == [{"priority": "urgent", "first_response_minutes": 15, "resolution_minutes": None},
                                 {"priority": "normal", "first_response_minutes": 60, "resolution_minutes": 480}]
    assert policy["business_hours"] is None and policy["holidays"] == []
    office = api.patch(f"/sla-policies/{policy['id']}", {
        "business_hours": {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "16:30", "time_zone": "Europe/Oslo"},
        "holidays": ["2026-12-25", "2026-12-24"]})
    assert office.status_code == 200, office.content
    assert office.json()["business_hours"] == {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "16:30",
                                               "time_zone": "Europe/Oslo"}
    assert office.json()["holidays"] == ["2026-12-24", "2026-12-25"]
    api.post("/automations", {"name": "SLA for all", "item_kind": "ticket", "trigger": {"type": "created"},
                              "actions": [{"type": "apply_sla", "sla": policy["id"]}]})
    ticket = api.post("/tickets", {"title": "Printer", "requester_email": "zoe@acme.example"}).json()
    assert ticket["sla"]["policy"] == policy["id"] and ticket["sla"]["policy_name"] == "Standard"
    assert ticket["sla"]["state"] == "running" and ticket["sla"]["first_response_due"]
    listed = api.get("/tickets").json()["items"][0]
    assert listed["sla"] == ticket["sla"]
    assert api.get("/sla-policies").json()["count"] == 1
    assert api.delete(f"/sla-policies/{policy['id']}").status_code == 204
    assert api.get(f"/tickets/{ticket['id']}").json()["sla"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({**POLICY, "name": ""}, "name"),
    ({**POLICY, "targets": []}, "targets"),
    ({**POLICY, "targets": [{"priority": "normal", "first_response_minutes": "soon"}]},
     "targets.0.first_response_minutes"),
    ({**POLICY, "targets": [{"priority": "normal", "first_response_minutes": 10, "extra": 1}]}, "targets.0.extra"),
    ({**POLICY, "business_hours": {"time_zone": "Nowhere/City"}}, "business_hours.time_zone"),
    ({**POLICY, "holidays": ["tomorrow"]}, "holidays.0"),
])
def test_bad_policies_are_a_422(api: ApiClient, body: dict[str, Any], field: str) -> None:
    response = api.post("/sla-policies", body)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert not SlaPolicy.objects.exists()


def test_an_apply_sla_action_names_a_policy_that_exists(api: ApiClient) -> None:
    response = api.post("/automations", {"name": "SLA", "item_kind": "ticket", "trigger": {"type": "created"},
                                         "actions": [{"type": "apply_sla", "sla": 999999}]})
    assert (response.status_code, response.json()["field"]) == (422, "actions.0.sla")
    assert api.post("/sla-policies", POLICY).status_code == 201
    assert api.post("/sla-policies", POLICY).status_code == 409
