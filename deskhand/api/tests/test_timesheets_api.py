"""/api/v1/timesheets: log time on items, list with filters, totals, CSV export, change and delete."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.utils import timezone

from deskhand.agents.models import Agent
from deskhand.audit.models import AuditEvent
from deskhand.conftest import ApiClient
from deskhand.work.models import TimeEntry


def _today() -> str:
    return timezone.localdate().isoformat()


def _days_ago(days: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=days)).isoformat()


def _log(api: ApiClient, **body: Any) -> Any:
    response = api.post("/timesheets", body)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def work(api: ApiClient) -> dict[str, Any]:
    """An Acme ticket in the Website project and a task outside any project."""
    project = api.post("/projects", {"name": "Website"}).json()
    ticket = api.post("/tickets", {"title": "Printer", "requester_email": "ana@acme.com",
                                   "project": project["id"]}).json()
    task = api.post("/tasks", {"title": "Backups"}).json()
    return {"project": project, "ticket": ticket, "task": task}


def test_log_time_for_the_token_agent(api: ApiClient, admin: Agent, work: dict[str, Any]) -> None:
    entry = _log(api, item=work["ticket"]["id"], minutes=45, date=_days_ago(1), note="Replaced toner",
                 billable=False)
    assert entry == {"id": entry["id"], "item": work["ticket"]["id"], "item_reference": work["ticket"]["reference"],
                     "item_title": "Printer", "agent": admin.pk, "agent_email": admin.email, "minutes": 45,
                     "date": _days_ago(1), "note": "Replaced toner", "billable": False,
                     "created_at": entry["created_at"]}
    # The date defaults to today, billable to true.
    default = _log(api, item=work["task"]["id"], minutes=10)
    assert default["date"] == _today() and default["billable"] is True
    assert api.get(f"/timesheets/{entry['id']}").json() == entry
    event = api.get(f"/tickets/{work['ticket']['id']}/events").json()["items"][-1]
    assert event["action"] == "time.logged" and event["detail"]["minutes"] == 45


def test_log_time_for_another_agent(api: ApiClient, agent: Agent, work: dict[str, Any]) -> None:
    entry = _log(api, item=work["task"]["id"], minutes=30, agent=agent.pk)
    assert entry["agent"] == agent.pk and entry["agent_email"] == agent.email


def test_list_filters(api: ApiClient, agent: Agent, agent_api: ApiClient, work: dict[str, Any]) -> None:
    mine = _log(api, item=work["ticket"]["id"], minutes=60, date=_days_ago(3))
    theirs = _log(agent_api, item=work["task"]["id"], minutes=15, date=_days_ago(1), billable=False)

    def found(**params: Any) -> list[int]:
        response = api.get("/timesheets", params)
        assert response.status_code == 200, response.content
        return [e["id"] for e in response.json()["items"]]

    assert found() == [theirs["id"], mine["id"]]
    assert found(agent=agent.pk) == [theirs["id"]]
    assert found(item=work["ticket"]["id"]) == [mine["id"]]
    assert found(project=work["project"]["id"]) == [mine["id"]]
    assert found(project="none") == [theirs["id"]]
    assert found(organization=work["ticket"]["organization"]) == [mine["id"]]
    assert found(organization="none") == [theirs["id"]]
    assert found(date_from=_days_ago(2)) == [theirs["id"]]
    assert found(date_to=_days_ago(2)) == [mine["id"]]
    assert found(billable="false") == [theirs["id"]]
    assert found(billable="true") == [mine["id"]]
    assert api.get("/timesheets", {"page_size": 1}).json()["count"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [({"agent": "ana"}, "agent"), ({"date_from": "yesterday"}, "date_from"), ({"date_to": "2024-02-30"}, "date_to"),
     ({"billable": "maybe"}, "billable"), ({"project": "x"}, "project"), ({"page_size": 501}, "page_size"),
     ({"item": "#" + "9" * 25}, "item"), ({"organization": "9" * 25}, "organization")],
)
def test_bad_filters(api: ApiClient, params: dict[str, Any], field: str) -> None:
    for path in ("/timesheets", "/timesheets/totals", "/timesheets/export"):
        response = api.get(path, params)
        if path != "/timesheets" and field == "page_size":
            continue
        assert response.status_code == 422 and response.json()["field"] == field, (path, response.content)


def test_totals(api: ApiClient, agent: Agent, agent_api: ApiClient, work: dict[str, Any]) -> None:
    _log(api, item=work["ticket"]["id"], minutes=60)
    _log(agent_api, item=work["ticket"]["id"], minutes=30, billable=False)
    _log(agent_api, item=work["task"]["id"], minutes=15)
    by_item = api.get("/timesheets/totals", {"by": "item"}).json()
    assert by_item["by"] == "item" and by_item["count"] == 2
    assert (by_item["minutes"], by_item["billable_minutes"]) == (105, 75)
    assert [(t["key"], t["minutes"], t["billable_minutes"]) for t in by_item["items"]] == [
        (work["ticket"]["id"], 90, 60), (work["task"]["id"], 15, 15)]
    by_project = api.get("/timesheets/totals", {"by": "project"}).json()["items"]
    assert [(t["label"], t["minutes"]) for t in by_project] == [("Website", 90), ("No project", 15)]
    by_organization = api.get("/timesheets/totals", {"by": "organization"}).json()["items"]
    assert [(t["key"], t["minutes"]) for t in by_organization] == [(work["ticket"]["organization"], 90), (None, 15)]
    by_agent = api.get("/timesheets/totals", {"by": "agent", "billable": "true"}).json()
    assert [(t["label"], t["minutes"]) for t in by_agent["items"]] == [
        ("admin@deskhand.test", 60), (agent.email, 15)]
    bad = api.get("/timesheets/totals", {"by": "colour"})
    assert bad.status_code == 422 and bad.json()["field"] == "by"


def test_export_is_csv(api: ApiClient, work: dict[str, Any]) -> None:
    _log(api, item=work["ticket"]["id"], minutes=60, note="=cmd|' /C calc'!A0")
    _log(api, item=work["task"]["id"], minutes=15, billable=False)
    response = api.client.get("/api/v1/timesheets/export", {"billable": "true"}, headers=api.headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["date", "agent", "item", "title", "project", "organization", "minutes", "billable", "note"]
    assert rows[1:] == [[_today(), "admin@deskhand.test", work["ticket"]["reference"], "Printer", "Website",
                         "acme.com", "60", "yes", "'=cmd|' /C calc'!A0"]]


def test_change_and_delete(api: ApiClient, work: dict[str, Any]) -> None:
    entry = _log(api, item=work["ticket"]["id"], minutes=60)
    changed = api.patch(f"/timesheets/{entry['id']}", {"minutes": 90, "note": "More", "billable": False,
                                                       "date": _days_ago(2)})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["minutes"], changed.json()["note"], changed.json()["billable"],
            changed.json()["date"]) == (90, "More", False, _days_ago(2))
    assert api.delete(f"/timesheets/{entry['id']}").status_code == 204
    assert api.get(f"/timesheets/{entry['id']}").status_code == 404
    actions = [e["action"] for e in api.get(f"/tickets/{work['ticket']['id']}/events").json()["items"]]
    assert actions[-2:] == ["time.updated", "time.deleted"]


def test_only_the_author_or_an_admin_changes_an_entry(api: ApiClient, agent_api: ApiClient,
                                                      work: dict[str, Any]) -> None:
    admins = _log(api, item=work["ticket"]["id"], minutes=60)
    assert agent_api.patch(f"/timesheets/{admins['id']}", {"minutes": 1}).status_code == 403
    assert agent_api.delete(f"/timesheets/{admins['id']}").status_code == 403
    theirs = _log(agent_api, item=work["ticket"]["id"], minutes=10)
    assert agent_api.patch(f"/timesheets/{theirs['id']}", {"minutes": 20}).json()["minutes"] == 20
    assert api.patch(f"/timesheets/{theirs['id']}", {"minutes": 25}).json()["minutes"] == 25
    assert api.get(f"/timesheets/{admins['id']}").json()["minutes"] == 60


@pytest.mark.parametrize(
    ("body", "field"),
    [({"minutes": 30}, "item"), ({"item": 999999, "minutes": 30}, "item"), ({"item": "1", "minutes": 30}, "item"),
     ({"minutes": 0}, "minutes"), ({"minutes": 24 * 60 + 1}, "minutes"), ({"minutes": "30"}, "minutes"),
     ({"minutes": 1.5}, "minutes"), ({}, "minutes"), ({"minutes": 30, "date": "31/12/2024"}, "date"),
     ({"minutes": 30, "date": "2999-01-01"}, "date"), ({"minutes": 30, "billable": "yes"}, "billable"),
     ({"minutes": 30, "agent": 999999}, "agent"), ({"minutes": 30, "note": "x" * 501}, "note")],
)
def test_bad_input_writes_nothing(api: ApiClient, work: dict[str, Any], body: dict[str, Any], field: str) -> None:
    body = {"item": work["ticket"]["id"], **body} if field != "item" else body
    before = (TimeEntry.objects.count(), AuditEvent.objects.count())
    response = api.post("/timesheets", body)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert (TimeEntry.objects.count(), AuditEvent.objects.count()) == before


def test_bad_changes_change_nothing(api: ApiClient, work: dict[str, Any]) -> None:
    entry = _log(api, item=work["ticket"]["id"], minutes=60)
    for body, field in [({"minutes": 0}, "minutes"), ({"minutes": None}, "minutes"), ({"date": "soon"}, "date"),
                        ({"billable": None}, "billable"), ({"minutes": 30, "date": "2999-01-01"}, "date")]:
        response = api.patch(f"/timesheets/{entry['id']}", body)
        assert response.status_code == 422 and response.json()["field"] == field, (body, response.content)
    assert api.get(f"/timesheets/{entry['id']}").json() == entry
    assert api.patch("/timesheets/999999", {"minutes": 1}).status_code == 404
    assert api.delete("/timesheets/999999").status_code == 404
