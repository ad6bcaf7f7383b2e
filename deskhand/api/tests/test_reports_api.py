"""GET /api/v1/reports/*: the figures of the hand-built data set, bad parameters named, tokens only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from deskhand.agents.models import Agent
from deskhand.conftest import ApiClient
from deskhand.core.actors import Actor
from deskhand.reports.tests.conftest import Desk, build_desk

PERIOD = {"from": "2026-03-28", "to": "2026-03-31", "tz": "Europe/Berlin"}


@pytest.fixture
def desk(db: Any, admin: Agent, admin_actor: Actor) -> Desk:
    return build_desk(admin_actor)


def test_volume_per_day_and_per_channel(api: ApiClient, desk: Desk) -> None:
    response = api.get("/reports/volume", {**PERIOD, "group_by": "channel"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {"from": "2026-03-28", "to": "2026-03-31", "tz": "Europe/Berlin"}
    assert [(d["day"], d["created"], d["solved"], d["open"]) for d in body["days"]] == [
        ("2026-03-28", 2, 1, 2), ("2026-03-29", 0, 1, 1), ("2026-03-30", 1, 1, 1), ("2026-03-31", 1, 0, 2)]
    assert {g["key"]: g["created"] for g in body["groups"]} == {"email": 1, "portal": 1, "web": 1, "api": 1}


def test_response_times_per_agent(api: ApiClient, desk: Desk) -> None:
    body = api.get("/reports/response-times", {**PERIOD, "group_by": "agent"}).json()
    assert body["total"]["first_response"] == {"count": 4, "median_seconds": 10800, "p90_seconds": 29520}
    assert body["total"]["resolution"] == {"count": 2, "median_seconds": 32400, "p90_seconds": 36720}
    ana = next(g for g in body["groups"] if g["key"] == str(desk.ana.pk))
    assert (ana["label"], ana["first_response"]["median_seconds"]) == ("Ana Agent", 9000)


def test_backlog_per_organization(api: ApiClient, desk: Desk) -> None:
    body = api.get("/reports/backlog", {**PERIOD, "group_by": "organization"}).json()
    assert body["total"] == 3
    assert {s["key"]: s["count"] for s in body["statuses"]} == {"new": 3, "open": 0, "pending": 0}
    assert {g["label"]: g["total"] for g in body["groups"]} == {"Acme": 2, "No organization": 1}
    assert [d["open"] for d in body["days"]] == [2, 1, 1, 2]


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-13-01"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-02-30"}, "to"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
    ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
    ({"from": "1900-01-01", "to": "1900-01-02"}, "from"),
    ({"group_by": "customer"}, "group_by"),
    ({"tz": "Mars/Olympus"}, "tz"),
    ({"tz": "../../etc/passwd"}, "tz"),
    ({"tz": "x" * 65}, "tz"),
    ({"group_by": "a" * 17}, "group_by"),
    ({"kind": "bug"}, "kind"),
])
@pytest.mark.parametrize("report", ["volume", "response-times", "backlog"])
def test_bad_parameters_are_422_naming_the_field(api: ApiClient, db: Any, params: dict[str, str], field: str,
                                                 report: str) -> None:
    response = api.get(f"/reports/{report}", params)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field


def test_defaults_are_the_last_30_days(api: ApiClient, db: Any) -> None:
    body = api.get("/reports/volume").json()
    assert len(body["days"]) == 30 and body["period"]["tz"] == "UTC" and body["groups"] == []


@pytest.mark.parametrize("report", ["volume", "response-times", "backlog"])
def test_a_token_is_required(db: Any, report: str) -> None:
    assert Client().get(f"/api/v1/reports/{report}").status_code == 401
    assert Client().get(f"/api/v1/reports/{report}", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_documented_in_the_openapi_schema(api: ApiClient, db: Any) -> None:
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]
    parameters = {p["name"] for p in paths["/api/v1/reports/volume"]["get"]["parameters"]}
    assert {"from", "to", "group_by", "tz"} <= parameters
    assert "/api/v1/reports/response-times" in paths and "/api/v1/reports/backlog" in paths
