"""/api/v1/tasks: the same routes as tickets, for work the team creates; a requester is optional."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.agents.models import Agent
from deskhand.audit.models import AuditEvent
from deskhand.conftest import ApiClient
from deskhand.customers.models import Customer
from deskhand.work.models import Item


def _task(api: ApiClient, title: str = "Renew certificate", **extra: Any) -> Any:
    response = api.post("/tasks", {"title": title, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def test_post_needs_only_a_title(api: ApiClient) -> None:
    body = _task(api)
    assert body["title"] == "Renew certificate" and body["reference"] == f"#{body['id']}"
    assert (body["requester"], body["requester_email"], body["organization"]) == (None, None, None)
    assert (body["status"], body["priority"], body["channel"]) == ("new", "normal", "api")
    assert body["followers"] == [] and body["assignees"] == []
    assert api.get(f"/tasks/{body['id']}").json() == body


def test_a_task_may_have_a_requester(api: ApiClient) -> None:
    body = _task(api, requester_email="ana@acme.com")
    customer = Customer.objects.get(email="ana@acme.com")
    assert body["requester"] == customer.pk and body["organization"] == customer.organization_id


def test_a_ticket_is_not_found_under_tasks(api: ApiClient) -> None:
    ticket = api.post("/tickets", {"title": "Printer", "requester_email": "ana@acme.com"}).json()
    assert api.get(f"/tasks/{ticket['id']}").status_code == 404
    assert api.patch(f"/tasks/{ticket['id']}", {"title": "x"}).status_code == 404
    assert api.get(f"/tasks/{ticket['id']}/events").status_code == 404
    assert api.post(f"/tasks/{ticket['id']}/replies", {"body": "x"}).status_code == 404


def test_list_filters_and_search(api: ApiClient, agent: Agent) -> None:
    certificate = _task(api, assignees=[{"type": "agent", "id": agent.pk}], priority="urgent")
    backup = _task(api, title="Check backups", status="pending")
    api.post("/tickets", {"title": "Printer", "requester_email": "ana@acme.com"})
    listing = api.get("/tasks").json()
    assert listing["count"] == 2 and [t["id"] for t in listing["items"]] == [backup["id"], certificate["id"]]
    assert [t["id"] for t in api.get("/tasks", {"search": "backup"}).json()["items"]] == [backup["id"]]
    assert [t["id"] for t in api.get("/tasks", {"assignee": agent.pk}).json()["items"]] == [certificate["id"]]
    assert [t["id"] for t in api.get("/tasks", {"status": "pending"}).json()["items"]] == [backup["id"]]
    assert [t["id"] for t in api.get("/tasks", {"priority": "urgent"}).json()["items"]] == [certificate["id"]]
    assert api.get("/tasks", {"organization": "none"}).json()["count"] == 2
    assert [t["id"] for t in api.get("/tasks", {"sort": "title"}).json()["items"]] == [
        backup["id"], certificate["id"]]


def test_tasks_follow_their_own_workflow(api: ApiClient) -> None:
    created = api.post("/statuses", {"kind": "task", "key": "blocked", "label": "Blocked", "category": "pending"})
    assert created.status_code == 201
    task = _task(api)
    assert api.patch(f"/tasks/{task['id']}", {"status": "blocked"}).json()["status"] == "blocked"
    response = api.post("/tickets", {"title": "Printer", "requester_email": "ana@acme.com", "status": "blocked"})
    assert response.status_code == 422 and response.json()["field"] == "status"
    assert api.get("/tasks", {"status": "blocked"}).json()["count"] == 1


def test_patch_and_history(api: ApiClient, agent: Agent) -> None:
    task = _task(api)
    body = api.patch(f"/tasks/{task['id']}", {
        "status": "done", "followers": [{"type": "agent", "id": agent.pk}], "requester_email": "bob@globex.com"})
    assert body.status_code == 200, body.content
    assert body.json()["status"] == "done" and body.json()["requester_email"] == "bob@globex.com"
    # A task can lose its requester again; a ticket cannot.
    assert api.patch(f"/tasks/{task['id']}", {"requester": None}).json()["requester"] is None
    actions = [e["action"] for e in api.get(f"/tasks/{task['id']}/events").json()["items"]]
    assert actions == ["task.created", "task.updated", "task.updated"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"title": ""}, "title"), ({}, "title"), ({"title": "x", "status": "nope"}, "status"),
     ({"title": "x", "priority": "nope"}, "priority"), ({"title": "x", "project": 999999}, "project"),
     ({"title": "x", "folder": 999999}, "folder"),
     ({"title": "x", "assignees": [{"type": "agent", "id": 999999}]}, "assignees"),
     ({"title": "x", "requester_email": "nope"}, "requester_email")],
)
def test_bad_input_is_a_422_and_writes_nothing(api: ApiClient, body: dict[str, Any], field: str) -> None:
    before = (Item.objects.count(), Customer.objects.count(), AuditEvent.objects.count())
    response = api.post("/tasks", body)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert (Item.objects.count(), Customer.objects.count(), AuditEvent.objects.count()) == before
