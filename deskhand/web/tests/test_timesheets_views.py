"""Timesheets page: logging time, filters, totals, editing and deleting one's own entries, CSV export."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.services import create_organization
from deskhand.web.forms_items import parse_minutes
from deskhand.web.views.timesheets import duration
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item, TimeEntry
from deskhand.work.services.items import create_task, submit_ticket
from deskhand.work.services.projects import create_project
from deskhand.work.services.timesheets import log_time


def _ticket(title: str, email: str = "bob@acme.example", **kwargs: Any) -> Item:
    return submit_ticket(ItemDraft(title=title, requester_email=email, **kwargs), actor=SYSTEM)


@pytest.fixture
def work(agent: Agent, admin: Agent) -> dict[str, Any]:
    """Two organizations, a project, three items and time from two agents."""
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    create_organization("Globex", domains=["globex.example"], actor=SYSTEM)
    website = create_project("Website", organization=acme.pk, actor=SYSTEM)
    printer = _ticket("Printer on fire", project=website.pk)
    invoice = _ticket("Invoice question", email="gil@globex.example")
    chore = create_task(ItemDraft(title="Rotate keys"), actor=SYSTEM)
    ana, ada = Actor.agent(agent), Actor.agent(admin)
    entries = {
        "ana_printer": log_time(printer, minutes=90, date="2024-05-10", note="Replaced toner", actor=ana),
        "ana_invoice": log_time(invoice, minutes=30, date="2024-05-12", billable=False, actor=ana),
        "ada_printer": log_time(printer, minutes=45, date="2024-05-15", actor=ada),
        "ada_chore": log_time(chore, minutes=20, date="2024-04-01", note="=HYPERLINK(\"x\")", actor=ada),
    }
    return {"acme": acme, "website": website, "printer": printer, "invoice": invoice, "chore": chore, **entries}


def test_durations_read_and_print_like_people_write_them() -> None:
    assert [parse_minutes(text) for text in ("90", "1:30", "1h 30m", "1h30", "45m", "2h", "1.5h", "1,25h", ".5h",
                                             " 1 H 30 MIN ", "2 hours", "1 hour 5 minutes", "45 min")] == [
        90, 90, 90, 90, 45, 120, 90, 75, 30, 90, 120, 65, 45]
    for text in ("soon", "", "h", "1:75", "1h 30m 10s", "9" * 7, "1" * 30 + "h", "-5", "1.5", "1h30h"):
        assert parse_minutes(text) is None, text
    assert [duration(n) for n in (0, 45, 60, 90, 600)] == ["0m", "45m", "1h", "1h 30m", "10h"]


def test_log_time_on_an_item_by_reference(agent_client: Client, agent: Agent) -> None:
    ticket = _ticket("Printer on fire")
    response = agent_client.post("/timesheets", {
        "item": f"#{ticket.pk}", "minutes": "1h 30m", "date": timezone.localdate().isoformat(),
        "note": "Replaced toner", "billable": "on", "next": "/timesheets?billable=yes"})
    assert response.status_code == 302 and response["Location"] == "/timesheets?billable=yes"
    entry = TimeEntry.objects.get()
    assert (entry.item, entry.agent, entry.minutes, entry.note, entry.billable) == (
        ticket, agent, 90, "Replaced toner", True)
    page = agent_client.get("/timesheets").content.decode()
    assert f"Logged 1h 30m on #{ticket.pk} Printer on fire." in page and "Replaced toner" in page
    agent_client.post("/timesheets", {"item": str(ticket.pk), "minutes": "15",
                                      "date": timezone.localdate().isoformat()})
    assert TimeEntry.objects.filter(minutes=15, billable=False).exists()  # an unticked box is not billable


def test_bad_time_shows_a_field_error_and_logs_nothing(agent_client: Client) -> None:
    ticket = _ticket("Printer on fire")
    today = timezone.localdate()
    good = {"item": f"#{ticket.pk}", "minutes": "30", "date": today.isoformat(), "billable": "on"}
    for changes, message in [
        ({"item": "#999999"}, "There is no ticket or task #999999."),
        ({"item": "printer"}, "Enter an item reference, such as #12."),
        ({"item": ""}, "This field is required."),
        ({"minutes": "soon"}, "Enter the time spent"),
        ({"minutes": "0"}, "Minutes are a whole number from 1 to 1440."),
        ({"minutes": "25h"}, "Minutes are a whole number from 1 to 1440."),
        ({"date": "17/05/2024"}, "Enter a valid date."),
        ({"date": (today + datetime.timedelta(days=5)).isoformat()}, "Time cannot be logged for a future day."),
        ({"note": "x" * 501}, "at most 500 characters"),
    ]:
        response = agent_client.post("/timesheets", {**good, **changes})
        page = response.content.decode()
        assert response.status_code == 422, changes
        assert 'class="field-error"' in page and message in page, (changes, message)
    assert not TimeEntry.objects.exists()
    response = agent_client.post("/timesheets", {**good, "minutes": "soon", "note": "Kept"})
    assert 'value="Kept"' in response.content.decode()


def test_entries_totals_and_filters(agent_client: Client, agent: Agent, work: dict[str, Any]) -> None:
    page = agent_client.get("/timesheets").content.decode()
    assert "Replaced toner" in page and "Rotate keys" in page
    assert "By item" in page and "By project" in page and "By organization" in page
    assert 'data-total>3h 5m<' in page and 'data-billable>2h 35m<' in page
    assert f"#{work['printer'].pk} Printer on fire" in page  # per item: 90 + 45
    assert "2h 15m" in page

    page = agent_client.get("/timesheets", {"agent": str(agent.pk)}).content.decode()
    assert "Rotate keys" not in page and 'data-total>2h<' in page

    page = agent_client.get("/timesheets", {"date_from": "2024-05-11", "date_to": "2024-05-31"}).content.decode()
    assert "Replaced toner" not in page and 'data-total>1h 15m<' in page

    page = agent_client.get("/timesheets", {"project": str(work["website"].pk)}).content.decode()
    assert 'data-total>2h 15m<' in page and "Invoice question" not in page
    page = agent_client.get("/timesheets", {"project": "none"}).content.decode()
    assert 'data-total>50m<' in page

    page = agent_client.get("/timesheets", {"organization": "acme"}).content.decode()
    assert 'data-total>2h 15m<' in page and 'value="acme"' in page
    page = agent_client.get("/timesheets", {"organization": str(work["acme"].pk)}).content.decode()
    assert 'data-total>2h 15m<' in page and 'value="Acme"' in page  # a link's id shows as the name

    page = agent_client.get("/timesheets", {"billable": "no"}).content.decode()
    assert 'data-total>30m<' in page
    page = agent_client.get("/timesheets", {"item": f"#{work['chore'].pk}"}).content.decode()
    assert 'data-total>20m<' in page


def test_bad_filters_show_a_field_error(agent_client: Client, work: dict[str, Any]) -> None:
    for params, message in [
        ({"date_from": "2024-13-01"}, "Enter a valid date."),
        ({"organization": "Nope Inc"}, "There is no organization named"),
        ({"agent": "999999"}, "Select a valid choice"),
        ({"billable": "maybe"}, "Select a valid choice"),
        ({"item": "abc"}, "Item is an id or none."),
    ]:
        response = agent_client.get("/timesheets", params)
        page = response.content.decode()
        assert response.status_code == 422 and message in page and "Replaced toner" not in page, params
        export = agent_client.get("/timesheets/export.csv", params)
        assert export.status_code == 422 and message in export.content.decode()


def test_only_the_author_or_an_admin_edits_and_deletes(agent_client: Client, admin_client: Client,
                                                       work: dict[str, Any]) -> None:
    own, other = work["ana_printer"], work["ada_printer"]
    page = agent_client.get("/timesheets").content.decode()
    assert f'href="/timesheets/{own.pk}?' in page and f'href="/timesheets/{other.pk}?' not in page
    assert agent_client.get(f"/timesheets/{other.pk}").status_code == 403
    assert agent_client.post(f"/timesheets/{other.pk}", {"minutes": "1", "date": "2024-05-15"}).status_code == 403
    assert agent_client.post(f"/timesheets/{other.pk}/delete").status_code == 403
    other.refresh_from_db()
    assert other.minutes == 45

    row = agent_client.get(f"/timesheets/{own.pk}", {"next": "/timesheets?agent=1"}, headers={"HX-Request": "true"})
    fragment = row.content.decode()
    assert fragment.lstrip().startswith("<tr") and "Save entry" in fragment and "<html" not in fragment
    response = agent_client.post(f"/timesheets/{own.pk}", {"minutes": "2h", "date": "2024-05-11", "note": "Toner",
                                                           "next": "/timesheets?agent=1"})
    assert response.status_code == 302 and response["Location"] == "/timesheets?agent=1"
    own.refresh_from_db()
    assert (own.minutes, own.date, own.note, own.billable) == (120, datetime.date(2024, 5, 11), "Toner", False)
    response = agent_client.post(f"/timesheets/{own.pk}", {"minutes": "0", "date": "2024-05-11"})
    assert response.status_code == 422 and "Minutes are a whole number" in response.content.decode()
    own.refresh_from_db()
    assert own.minutes == 120

    assert admin_client.post(f"/timesheets/{own.pk}", {"minutes": "60", "date": "2024-05-11",
                                                       "billable": "on"}).status_code == 302
    confirm = agent_client.get(f"/timesheets/{own.pk}/delete").content.decode()
    assert "will be deleted" in confirm and TimeEntry.objects.filter(pk=own.pk).exists()
    response = agent_client.post(f"/timesheets/{own.pk}/delete")
    assert response.status_code == 302 and not TimeEntry.objects.filter(pk=own.pk).exists()
    assert agent_client.get(f"/timesheets/{own.pk}").status_code == 404


def test_csv_export_of_the_filtered_entries(agent_client: Client, agent: Agent, work: dict[str, Any]) -> None:
    response = agent_client.get("/timesheets/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["date", "agent", "item", "title", "project", "organization", "minutes", "billable", "note"]
    assert len(rows) == 5
    assert rows[1] == ["2024-05-15", "admin@deskhand.test", f"#{work['printer'].pk}", "Printer on fire", "Website",
                       "Acme", "45", "yes", ""]
    assert rows[-1][-1] == "'=HYPERLINK(\"x\")"  # a formula stays text in a spreadsheet

    response = agent_client.get("/timesheets/export.csv", {"agent": str(agent.pk), "billable": "yes"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[-1] for row in rows[1:]] == ["Replaced toner"]
    page = agent_client.get("/timesheets", {"agent": str(agent.pk)}).content.decode()
    assert f'href="/timesheets/export.csv?agent={agent.pk}"' in page


def test_timesheets_need_a_signed_in_agent(client: Client, db: Any) -> None:
    assert client.get("/timesheets").status_code == 302
    assert client.get("/timesheets/export.csv").status_code == 302


def test_timesheet_query_count_does_not_grow(agent_client: Client, agent: Agent, admin: Agent,
                                             django_assert_max_num_queries: Any) -> None:
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)

    def grow(start: int, count: int) -> None:
        for index in range(start, start + count):
            project = create_project(f"Project {index}", organization=acme.pk, actor=SYSTEM)
            ticket = _ticket(f"T{index}", email=f"c{index}@acme.example", project=project.pk)
            log_time(ticket, minutes=10 + index, date="2024-05-01", actor=Actor.agent(agent))
            log_time(ticket, minutes=5, date="2024-05-02", billable=False, actor=Actor.agent(admin))

    grow(0, 3)
    with django_assert_max_num_queries(20) as few:
        agent_client.get("/timesheets")
    grow(3, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = agent_client.get("/timesheets").content.decode()
    assert "T32" in page
