"""/reports, /dashboard and the report CSVs: figures of the hand-built data set, agents only."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from deskhand.agents.models import Agent
from deskhand.core.actors import Actor
from deskhand.customers.models import Organization
from deskhand.reports.tests.conftest import Desk, build_desk

PERIOD = "from=2026-03-28&to=2026-03-31&tz=Europe/Berlin&preset=custom"


@pytest.fixture
def desk(db: Any, admin: Agent, admin_actor: Actor) -> Desk:
    return build_desk(admin_actor)


def test_reports_page_shows_the_period_grouped(admin_client: Client, desk: Desk) -> None:
    response = admin_client.get(f"/reports?{PERIOD}&group_by=agent")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>4</strong> created, <strong>3</strong> solved" in page
    assert "<svg" in page and "<title id=\"volume-chart-title\">" in page and "<desc" in page
    assert "Ana Agent" in page and "Bob Agent" in page and "Unassigned" in page
    assert "3 h" in page  # the overall first-response median, 10 800 s
    assert 'href="/reports/sla"' in page and 'href="/reports/satisfaction"' in page


def test_a_bad_period_is_named_next_to_its_field(admin_client: Client, db: Any) -> None:
    response = admin_client.get("/reports?from=2026-04-02&to=2026-04-01&preset=custom")
    assert response.status_code == 422
    assert "The period&#x27;s start is on or before its end." in response.content.decode()
    assert 'id="report-from-error"' in response.content.decode()


@pytest.mark.parametrize("report", ["volume", "response-times", "backlog"])
def test_csv_downloads(admin_client: Client, desk: Desk, report: str) -> None:
    response = admin_client.get(f"/reports/{report}.csv?{PERIOD}&group_by=organization")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="{report}-2026-03-28-2026-03-31-by-organization.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
    assert rows[0][0] in ("day", "group")


def test_csv_is_safe_in_a_spreadsheet(admin_client: Client, desk: Desk) -> None:
    Organization.objects.filter(pk=desk.acme.pk).update(name="=cmd|' /C calc'!A0")
    response = admin_client.get(f"/reports/volume.csv?{PERIOD}&group_by=organization")
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert "'=cmd|' /C calc'!A0" in text
    assert not any(line.startswith("=") for line in text.splitlines())


def test_unknown_csv_and_bad_csv_parameters(admin_client: Client, db: Any) -> None:
    assert admin_client.get("/reports/nothing.csv").status_code == 404
    response = admin_client.get("/reports/volume.csv?group_by=planet")
    assert response.status_code == 422 and b"group_by" in response.content


def test_dashboard_numbers_link_to_the_ticket_lists(admin_client: Client, desk: Desk) -> None:
    response = admin_client.get("/dashboard")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/tickets?status=category%3Anew%2Copen%2Cpending"' in page
    assert 'href="/tickets?status=category%3Anew%2Copen%2Cpending&amp;assignee=none"' in page
    assert 'href="/tickets?sla=at_risk"' in page
    # The counts are those of the lists they link to.
    assert admin_client.get("/tickets?status=category%3Anew%2Copen%2Cpending").status_code == 200


@pytest.mark.parametrize("path", ["/dashboard", "/reports", "/reports/volume.csv", "/reports/backlog.csv"])
def test_agents_only(db: Any, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_sidebar_reports_goes_to_the_overview(admin_client: Client, db: Any) -> None:
    page = admin_client.get("/reports/sla").content.decode()
    assert 'href="/reports" aria-current="page">Reports' in page and 'href="/dashboard"' in page


def test_reports_page_query_budget(admin_client: Client, desk: Desk, django_assert_max_num_queries: Any) -> None:
    """The page's statements do not grow with the days or the groups."""
    with django_assert_max_num_queries(25):
        assert admin_client.get(f"/reports?{PERIOD}&group_by=organization").status_code == 200


def test_tasks_on_the_page_and_in_the_csv(admin_client: Client, desk: Desk) -> None:
    page = admin_client.get(f"/reports?{PERIOD}&kind=task").content.decode()
    assert "<h1>Tasks: 28 Mar 2026 – 31 Mar 2026</h1>" in page and "All tasks" in page
    response = admin_client.get(f"/reports/backlog.csv?{PERIOD}&kind=task")
    assert 'filename="tasks-backlog-2026-03-28-2026-03-31.csv"' in response["Content-Disposition"]
