"""/api/v1/automations and /organizations/{id}/routing as DESIGN §7 shows them; bad rules are a
422 naming the field and change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.agents.models import Agent
from deskhand.automations.models import Automation
from deskhand.conftest import ApiClient

AUTOMATION_KEYS = {"id", "name", "item_kind", "trigger", "conditions", "actions", "enabled", "position",
                   "organization", "routing", "failures", "last_error", "created_at", "updated_at"}


def _organization(api: ApiClient, name: str = "Acme", domain: str = "acme.example") -> Any:
    return api.post("/organizations", {"name": name, "domains": [domain]}).json()


def _rule(**overrides: Any) -> dict[str, Any]:
    body = {"name": "Urgent printers", "item_kind": "ticket", "trigger": {"type": "created"},
            "conditions": {"all": [{"field": "title", "op": "contains", "value": "printer"}], "any": []},
            "actions": [{"type": "set_priority", "value": "urgent"}]}
    body.update(overrides)
    return body


def test_create_read_change_and_delete(api: ApiClient, agent: Agent) -> None:
    created = api.post("/automations", _rule())
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) == AUTOMATION_KEYS and body["enabled"] and body["trigger"] == {"type": "created"}
    assert body["actions"] == [{"type": "set_priority", "value": "urgent"}]
    changed = api.patch(f"/automations/{body['id']}", {"enabled": False, "actions": [
        {"type": "assign", "agent": agent.pk}, {"type": "note", "body": "Routed to {{ requester.name }}."}]})
    assert changed.status_code == 200, changed.content
    assert not changed.json()["enabled"] and changed.json()["conditions"] == body["conditions"]
    assert [a["type"] for a in changed.json()["actions"]] == ["assign", "note"]
    assert api.get("/automations").json()["count"] == 1
    assert api.get(f"/automations/{body['id']}").json()["name"] == "Urgent printers"
    assert api.delete(f"/automations/{body['id']}").status_code == 204
    assert api.get(f"/automations/{body['id']}").status_code == 404


def test_a_ticket_created_through_the_api_runs_the_rules(api: ApiClient) -> None:
    api.post("/automations", _rule())
    ticket = api.post("/tickets", {"title": "Printer jam", "requester_email": "zoe@acme.example"}).json()
    assert ticket["priority"] == "urgent"
    events = api.get(f"/tickets/{ticket['id']}/events").json()["items"]
    [run] = [event for event in events if event["action"] == "automation.ran"]
    assert run["detail"]["name"] == "Urgent printers" and run["detail"]["matched"] == ["title contains printer"]
    assert run["detail"]["did"] == ["priority set to urgent"]


def test_routing_section_of_an_organization(api: ApiClient, agent: Agent) -> None:
    acme = _organization(api)
    globex = _organization(api, "Globex", "globex.example")
    project = api.post("/projects", {"name": "Acme support"}).json()
    empty = api.get(f"/organizations/{acme['id']}/routing").json()
    assert empty == {"organization": acme["id"], "automation": None, "enabled": False, "actions": []}
    actions = [{"type": "assign", "agent": agent.pk}, {"type": "move_to_project", "project": project["id"]},
               {"type": "set_priority", "value": "high"}]
    saved = api.put(f"/organizations/{acme['id']}/routing", {"actions": actions})
    assert saved.status_code == 200, saved.content
    assert saved.json()["actions"] == [{"type": "assign", "agent": agent.pk},
                                       {"type": "move_to_project", "project": project["id"], "folder": None},
                                       {"type": "set_priority", "value": "high"}]
    rule = api.get(f"/automations/{saved.json()['automation']}").json()
    assert rule["routing"] and rule["organization"] == acme["id"]
    assert rule["conditions"]["all"] == [{"field": "organization", "op": "is", "value": acme["id"]}]
    mine = api.post("/tickets", {"title": "Hello", "requester_email": "zoe@acme.example"}).json()
    theirs = api.post("/tickets", {"title": "Hello", "requester_email": "max@globex.example"}).json()
    assert mine["assignees"] == [{"type": "agent", "id": agent.pk}] and mine["project"] == project["id"]
    assert mine["priority"] == "high" and theirs["assignees"] == [] and theirs["priority"] == "normal"
    assert api.put(f"/organizations/{acme['id']}/routing", {"actions": []}).json()["automation"] is None
    assert not Automation.objects.exists()
    assert api.get(f"/organizations/{globex['id']}/routing").json()["actions"] == []
    assert api.put("/organizations/999999/routing", {"actions": actions}).status_code == 404


def _bad_cases() -> list[Any]:
    return [
        (_rule(name=""), "name"),
        (_rule(item_kind="invoice"), "item_kind"),
        (_rule(trigger={"type": "whenever"}), "trigger.type"),
        (_rule(trigger={"type": "elapsed", "minutes": 10}), "trigger.since"),
        (_rule(trigger={"type": "created", "colour": "red"}), "trigger.colour"),
        (_rule(conditions={"all": [{"field": "colour", "op": "is", "value": "red"}]}), "conditions.all.0.field"),
        (_rule(conditions={"all": [{"field": "status", "op": "is", "value": "archived"}]}), "conditions.all.0.value"),
        (_rule(conditions={"all": [{"field": "organization", "op": "is", "value": 999999}]}),
         "conditions.all.0.value"),
        (_rule(conditions={"all": [{"field": "priority", "op": "bigger", "value": "high"}]}), "conditions.all.0.op"),
        (_rule(actions=[]), "actions"),
        (_rule(actions=[{"type": "explode"}]), "actions.0.type"),
        (_rule(actions=[{"type": "assign", "agent": 999999}]), "actions.0.agent"),
        (_rule(actions=[{"type": "assign", "team": 999999}]), "actions.0.team"),
        (_rule(actions=[{"type": "set_status", "value": "archived"}]), "actions.0.value"),
        (_rule(actions=[{"type": "move_to_project", "project": 999999}]), "actions.0.project"),
        (_rule(actions=[{"type": "set_field", "field": "level", "value": 3}]), "actions.0.field"),
        (_rule(actions=[{"type": "reply", "body": "{{ item.secret }}"}]), "actions.0.body"),
        (_rule(actions=[{"type": "note", "body": "x", "extra": 1}]), "actions.0.extra"),
        (_rule(trigger={"type": "changed", "field": "status"}, actions=[{"type": "set_status", "value": "open"}]),
         "trigger.field"),
        (_rule(item_kind="project", conditions={}, actions=[{"type": "assign", "team": 1}]), "actions.0.type"),
        (_rule(item_kind="project", conditions={}, actions=[
            {"type": "set_field", "field": "portfolio", "value": 999999}]), "actions.0.value"),
        (_rule(item_kind="project", conditions={"all": [{"field": "portfolio", "op": "is", "value": 999999}]},
               actions=[{"type": "add_folder", "name": "Support"}]), "conditions.all.0.value"),
        (_rule(item_kind="timesheet", conditions={"all": [{"field": "item.status", "op": "is", "value": "gone"}]},
               actions=[{"type": "set_field", "field": "billable", "value": False}]), "conditions.all.0.value"),
        (_rule(item_kind="timesheet", trigger={"type": "sla_breached"}, conditions={},
               actions=[{"type": "set_field", "field": "billable", "value": False}]), "trigger.type"),
    ]


@pytest.mark.parametrize(("body", "field"), _bad_cases())
def test_bad_rules_are_a_422_naming_the_field(api: ApiClient, body: dict[str, Any], field: str) -> None:
    response = api.post("/automations", body)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field and response.json()["detail"]
    assert not Automation.objects.exists()


def test_only_admins_manage_automations(agent_api: ApiClient) -> None:
    assert agent_api.post("/automations", _rule()).status_code == 403
    assert agent_api.get("/automations").status_code == 403
    assert not Automation.objects.exists()


def test_test_against_an_item_changes_nothing(api: ApiClient) -> None:
    ticket = api.post("/tickets", {"title": "Printer jam", "requester_email": "zoe@acme.example"}).json()
    result = api.post("/automations/test", {"rule": _rule(), "item": ticket["id"]})
    assert result.status_code == 200, result.content
    assert result.json() == {"triggered": True, "matched": True,
                             "checks": [{"text": "title contains printer", "met": True}],
                             "actions": [{"type": "set_priority", "value": "urgent"}]}
    assert api.get(f"/tickets/{ticket['id']}").json()["priority"] == "normal"
    missing = api.post("/automations/test", {"rule": _rule(), "item": 999999})
    assert (missing.status_code, missing.json()["field"]) == (422, "item")


def test_project_and_timesheet_rules_run_on_projects_and_logged_time(api: ApiClient, agent: Agent) -> None:
    acme = _organization(api)
    portfolio = api.post("/portfolios", {"name": "Clients"}).json()
    project_rule = api.post("/automations", _rule(
        name="Customer projects", item_kind="project",
        conditions={"all": [{"field": "organization", "op": "is_not", "value": None}]},
        actions=[{"type": "set_field", "field": "portfolio", "value": portfolio["id"]},
                 {"type": "add_folder", "name": "Support"}]))
    assert project_rule.status_code == 201, project_rule.content
    assert project_rule.json()["actions"] == [{"type": "set_field", "field": "portfolio", "value": portfolio["id"]},
                                              {"type": "add_folder", "name": "Support"}]
    project = api.post("/projects", {"name": "Acme rollout", "organization": acme["id"]}).json()
    assert project["portfolio"] == api.get(f"/projects/{project['id']}").json()["portfolio"] == portfolio["id"]
    assert [f["name"] for f in api.get(f"/folders?project={project['id']}").json()["items"]] == ["Support"]
    time_rule = api.post("/automations", _rule(
        name="Acme is on a flat fee", item_kind="timesheet",
        conditions={"all": [{"field": "item.organization", "op": "is", "value": acme["id"]}]},
        actions=[{"type": "set_field", "field": "billable", "value": False}]))
    assert time_rule.status_code == 201, time_rule.content
    ticket = api.post("/tickets", {"title": "Printer jam", "requester_email": "zoe@acme.example"}).json()
    entry = api.post("/timesheets", {"item": ticket["id"], "minutes": 30, "agent": agent.pk}).json()
    assert entry["billable"] is False and api.get(f"/timesheets/{entry['id']}").json()["billable"] is False
    events = api.get(f"/tickets/{ticket['id']}/events").json()["items"]
    assert any(e["action"] == "automation.ran" and e["detail"]["name"] == "Acme is on a flat fee" for e in events)
    tested = api.post("/automations/test", {"rule": _rule(item_kind="timesheet", conditions={"all": [
        {"field": "minutes", "op": "gt", "value": 60}]}, actions=[{"type": "set_field", "field": "billable",
                                                                   "value": True}]), "item": entry["id"]})
    assert tested.status_code == 200, tested.content
    assert tested.json()["checks"] == [{"text": "minutes gt 60", "met": False}]
    missing = api.post("/automations/test", {"rule": _rule(item_kind="project", conditions={}, actions=[
        {"type": "add_folder", "name": "Support"}]), "item": 999999})
    assert (missing.status_code, missing.json()["field"]) == (422, "item")
