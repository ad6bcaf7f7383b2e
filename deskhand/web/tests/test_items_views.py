"""Tickets and Tasks pages with Django's test client: lists, views, filters, bulk actions, create forms,
the item page with its conversation, in-place properties, time and history."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from deskhand.agents.models import Agent, Team
from deskhand.agents.services import create_team
from deskhand.audit.models import AuditEvent
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.models import Customer, Organization
from deskhand.fields.services import create_custom_field
from deskhand.mail.models import OutboundMessage
from deskhand.work.inputs import AssigneeRef, ItemChanges, ItemDraft
from deskhand.work.models import Attachment, Folder, Item, Message, Project, TimeEntry
from deskhand.work.services.items import change_item, create_task, submit_ticket
from deskhand.work.services.messages import NewAttachment, add_message
from deskhand.work.services.projects import create_folder, create_portfolio, create_project

HX = {"HX-Request": "true"}


def _ticket(title: str = "Printer on fire", email: str = "bob@acme.example", **kwargs: Any) -> Item:
    return submit_ticket(ItemDraft(title=title, requester_email=email, **kwargs), actor=SYSTEM)


@pytest.fixture
def project(db: Any) -> Project:
    portfolio = create_portfolio("Clients", actor=SYSTEM)
    return create_project("Acme rollout", portfolio=portfolio.pk, actor=SYSTEM)


@pytest.fixture
def folder(project: Project) -> Folder:
    return create_folder("Phase 1", project=project.pk, actor=SYSTEM)


@pytest.fixture
def team(admin: Agent) -> Team:
    return create_team("Second line", members=[admin.pk], actor=SYSTEM)


# -- sign-in, shell --------------------------------------------------------------------------------


def test_home_and_sign_in_land_on_tickets(admin: Agent, client: Client) -> None:
    assert client.get("/")["Location"] == "/tickets"
    response = client.post("/login", {"email": "admin@deskhand.test", "password": "correct-horse-9"})
    assert response["Location"] == "/tickets"
    page = client.get("/tickets").content.decode()
    assert 'href="/tickets" aria-current="page"' in page
    for link in ('href="/tasks"', 'href="/projects"', 'href="/timesheets"', 'href="/customers"'):
        assert link in page


def test_sign_in_still_follows_next(admin: Agent, client: Client) -> None:
    response = client.post("/login", {"email": "admin@deskhand.test", "password": "correct-horse-9",
                                      "next": "/tasks/new"})
    assert response["Location"] == "/tasks/new"


def test_signed_out_agents_are_sent_to_login(db: Any, client: Client) -> None:
    ticket = _ticket()
    for path in ["/tickets", "/tasks", "/tickets/new", f"/tickets/{ticket.pk}", "/attachments/1"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login?next=")


# -- lists -----------------------------------------------------------------------------------------


def test_ticket_list_shows_the_columns_and_only_tickets(agent_client: Client, project: Project) -> None:
    ticket = _ticket(project=project.pk, priority="high")
    create_task(ItemDraft(title="Renew certificates"), actor=SYSTEM)
    page = agent_client.get("/tickets?view=list").content.decode()
    assert ticket.reference in page and "Printer on fire" in page and "bob@acme.example" in page
    assert "acme.example" in page and "Acme rollout" in page and "High" in page and "New" in page
    assert "Renew certificates" not in page
    tasks = agent_client.get("/tasks?view=list").content.decode()
    assert "Renew certificates" in tasks and "Printer on fire" not in tasks


def test_done_items_look_quieter(agent_client: Client) -> None:
    ticket = _ticket()
    change_item(ticket, changes=ItemChanges(status="done"), actor=SYSTEM)
    page = agent_client.get("/tickets?view=list").content.decode()
    assert 'class="item-row done"' in page


def test_filters_live_in_the_query_string(agent_client: Client, agent: Agent, project: Project) -> None:
    first = _ticket("Printer on fire", "bob@acme.example", priority="urgent", project=project.pk)
    second = _ticket("Mail is slow", "eve@globex.example")
    change_item(second, changes=ItemChanges(status="open", assignees=[AssigneeRef(kind="agent", id=agent.pk)]), actor=SYSTEM)
    acme = Organization.objects.get(name="acme.example")

    def titles(**params: str) -> set[str]:
        page = agent_client.get("/tickets", {"view": "list", **params}).content.decode()
        return {title for title in ("Printer on fire", "Mail is slow") if title in page}

    assert titles() == {"Printer on fire", "Mail is slow"}
    assert titles(status="open") == {"Mail is slow"}
    assert titles(status="category:new,open,pending") == {"Printer on fire", "Mail is slow"}
    assert titles(priority="urgent") == {"Printer on fire"}
    assert titles(assignee=str(agent.pk)) == {"Mail is slow"}
    assert titles(assignee="none") == {"Printer on fire"}
    assert titles(organization=str(acme.pk)) == {"Printer on fire"}
    assert titles(organization="ACME.example") == {"Printer on fire"}
    assert titles(requester="eve@globex.example") == {"Mail is slow"}
    assert titles(project=str(project.pk)) == {"Printer on fire"}
    assert titles(project="none") == {"Mail is slow"}
    assert titles(search="mail") == {"Mail is slow"}
    assert titles(search=first.reference) == {"Printer on fire"}
    assert titles(search="eve@globex") == {"Mail is slow"}
    page = agent_client.get("/tickets", {"view": "list", "organization": str(acme.pk)}).content.decode()
    assert 'value="acme.example"' in page  # the box shows the name behind the id


def test_bad_filters_answer_422_with_the_reason(agent_client: Client) -> None:
    _ticket()
    for params, reason in [({"status": "bogus"}, "“bogus” is not a ticket status"),
                           ({"priority": "whenever"}, "Priority is low, normal, high or urgent"),
                           ({"organization": "Nope Inc"}, "There is no organization named “Nope Inc”"),
                           ({"requester": "nobody@nowhere.example"}, "No customer has the address"),
                           ({"project": "abc"}, "Project is an id or none")]:
        response = agent_client.get("/tickets", {"view": "list", **params})
        page = response.content.decode()
        assert response.status_code == 422 and reason in page and "Printer on fire" not in page


def test_htmx_gets_the_list_fragment(agent_client: Client) -> None:
    _ticket()
    response = agent_client.get("/tickets", {"search": "printer"}, headers=HX)
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page and 'id="item-list"' in page
    assert "Printer on fire" in page and 'hx-swap-oob="true"' in page


def test_sorting_and_pages_of_fifty(agent_client: Client) -> None:
    for number in range(51):
        create_task(ItemDraft(title=f"Task {number:02d}"), actor=SYSTEM)
    page = agent_client.get("/tasks", {"view": "list"}).content.decode()
    assert "Task 50" in page and "Task 00" not in page and "1–50" in page and "Next →" in page
    second = agent_client.get("/tasks", {"view": "list", "page": "2"}).content.decode()
    assert "Task 00" in second and "Task 01" not in second and "← Previous" in second
    by_title = agent_client.get("/tasks", {"view": "list", "sort": "title"}).content.decode()
    assert by_title.index("Task 00") < by_title.index("Task 01") and "Task 50" not in by_title
    assert 'aria-sort="ascending"' in by_title


def test_view_switch_follows_the_settings(agent_client: Client, project: Project, folder: Folder) -> None:
    _ticket(project=project.pk, folder=folder.pk)
    page = agent_client.get("/tickets").content.decode()  # default view: by portfolio
    assert 'aria-label="Projects by portfolio"' in page and "Clients" in page and "Phase 1" in page
    assert "By customer" in page and "By portfolio" in page and ">List<" in page
    assert f"project={project.pk}&amp;folder={folder.pk}" in page
    update_settings({"enabled_views": ["by_customer"], "default_view": "by_customer"}, actor=SYSTEM)
    page = agent_client.get("/tickets").content.decode()
    assert "By portfolio" not in page and 'aria-label="Tickets by customer"' in page
    page = agent_client.get("/tickets", {"view": "by_portfolio"}).content.decode()
    assert 'aria-label="Tickets by customer"' in page  # a view that is switched off is not offered


def test_portfolio_level_hides_when_portfolios_are_off(agent_client: Client, project: Project) -> None:
    _ticket(project=project.pk)
    assert "Clients" in agent_client.get("/tickets", {"view": "by_portfolio"}).content.decode()
    update_settings({"portfolios_enabled": False}, actor=SYSTEM)
    page = agent_client.get("/tickets", {"view": "by_portfolio"}).content.decode()
    assert "Acme rollout" in page and "Clients" not in page


def test_by_customer_lists_organizations_projects_and_no_project(agent_client: Client, project: Project) -> None:
    _ticket(project=project.pk)
    _ticket("Second", "ann@acme.example")
    acme = Organization.objects.get(name="acme.example")
    page = agent_client.get("/tickets", {"view": "by_customer"}).content.decode()
    assert "acme.example" in page and "Acme rollout" in page
    assert f"organization={acme.pk}&amp;project=none" in page
    narrowed = agent_client.get("/tickets", {"view": "by_customer", "organization": str(acme.pk),
                                             "project": "none"}).content.decode()
    assert "Second" in narrowed and "Printer on fire" not in narrowed


# -- bulk actions ----------------------------------------------------------------------------------


def test_bulk_assign_status_and_move(agent_client: Client, agent: Agent, team: Team, project: Project,
                                     folder: Folder) -> None:
    one, two, other = _ticket("One"), _ticket("Two"), _ticket("Other")
    ids = [str(one.pk), str(two.pk)]
    response = agent_client.post("/tickets/bulk", {"items": ids, "action": "assign", "assign_to": f"team:{team.pk}",
                                                   "query": "view=list&search=o"})
    assert response.status_code == 302 and response["Location"] == "/tickets?view=list&search=o"
    assert {a.team_id for a in one.assignees.all()} == {team.pk} and not other.assignees.exists()
    response = agent_client.post("/tickets/bulk", {"items": ids, "action": "status", "status_to": "pending",
                                                   "query": "view=list"}, headers=HX)
    page = response.content.decode()
    assert response.status_code == 200 and "2 tickets set to Pending." in page and "<html" not in page
    response = agent_client.post("/tickets/bulk", {"items": ids, "action": "move", "move_to": f"folder:{folder.pk}"})
    one.refresh_from_db()
    assert one.status.key == "pending" and one.project == project and one.folder == folder
    agent_client.post("/tickets/bulk", {"items": [str(one.pk)], "action": "assign", "assign_to": f"agent:{agent.pk}"})
    assert [a.agent_id for a in one.assignees.all()] == [agent.pk]
    agent_client.post("/tickets/bulk", {"items": [str(one.pk)], "action": "move", "move_to": "none"})
    one.refresh_from_db()
    assert one.project is None and one.folder is None


def test_bulk_errors_change_nothing(agent_client: Client, project: Project) -> None:
    one, two = _ticket("One"), _ticket("Two")
    before = AuditEvent.objects.count()
    cases = [
        ({"action": "status", "status_to": "open"}, "Choose at least one item"),
        ({"items": [str(one.pk)], "action": "status", "status_to": ""}, "Choose a status"),
        ({"items": [str(one.pk), str(two.pk)], "action": "status", "status_to": "bogus"}, "is not a ticket status"),
        ({"items": [str(one.pk)], "action": "move", "move_to": "project:999999"}, "No project with id 999999"),
        ({"items": [str(one.pk)], "action": "assign", "assign_to": "agent:999999"}, "no active agent"),
        ({"items": [str(one.pk)], "action": "explode"}, "Choose an action"),
    ]
    for data, reason in cases:
        response = agent_client.post("/tickets/bulk", {"query": "view=list", **data}, headers=HX)
        assert response.status_code in (404, 422) and reason in response.content.decode(), data
    response = agent_client.post("/tickets/bulk", {"items": [str(one.pk)], "action": "status", "status_to": "bogus",
                                                   "query": "view=list"})
    page = response.content.decode()
    assert response.status_code == 422 and "<html" in page and f'value="{one.pk}" aria-label="Check #{one.pk}" checked' in page
    assert AuditEvent.objects.count() == before
    assert set(Item.objects.values_list("status__key", flat=True)) == {"new"}


def test_a_task_cannot_be_changed_through_the_ticket_bulk_form(agent_client: Client) -> None:
    task = create_task(ItemDraft(title="Task"), actor=SYSTEM)
    response = agent_client.post("/tickets/bulk", {"items": [str(task.pk)], "action": "status", "status_to": "open"})
    assert response.status_code == 422
    task.refresh_from_db()
    assert task.status.key == "new"


def _fields_with_errors(page: str) -> list[str]:
    return re.findall(r'<div class="field has-error[^"]*">\s*<label for="([^"]+)"', page)


# -- create forms ----------------------------------------------------------------------------------


def test_new_ticket_finds_or_creates_the_requester(agent_client: Client, agent: Agent, project: Project,
                                                   folder: Folder) -> None:
    page = agent_client.get("/tickets/new").content.decode()
    for label in ("Title", "Description", "Requester email", "Priority", "Assignee", "Project", "Folder"):
        assert f">{label}</label>" in page
    response = agent_client.post("/tickets/new", {
        "title": "VPN down", "description": "Since 9am.", "requester_email": "Zoe@NewCo.example",
        "priority": "high", "assignee": f"agent:{agent.pk}", "project": str(project.pk), "folder": str(folder.pk)})
    item = Item.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tickets/{item.pk}"
    assert item.kind == "ticket" and item.priority_key == "high" and item.folder == folder
    assert item.requester.email == "Zoe@newco.example" and item.organization.name == "newco.example"
    assert [a.agent_id for a in item.assignees.all()] == [agent.pk]
    assert item.created_by == agent and item.channel == "web"


def test_new_task_needs_no_requester(agent_client: Client) -> None:
    response = agent_client.post("/tasks/new", {"title": "Renew certificates", "priority": "normal"})
    item = Item.objects.get()
    assert response["Location"] == f"/tasks/{item.pk}" and item.kind == "task" and item.requester is None


def test_new_ticket_errors_stay_at_the_field_and_nothing_is_written(agent_client: Client, project: Project) -> None:
    other = create_project("Other", actor=SYSTEM)
    other_folder = create_folder("Elsewhere", project=other.pk, actor=SYSTEM)
    cases = [
        ({"title": "", "requester_email": "a@b.example"}, "title", "Enter a title"),
        ({"title": "Hi", "requester_email": ""}, "requester_email", "A ticket needs a requester"),
        ({"title": "Hi", "requester_email": "not an address"}, "requester_email", ""),
        ({"title": "Hi", "requester_email": "a@b.example", "priority": "whenever"}, "priority",
         "Priority is low, normal, high or urgent"),
        ({"title": "Hi", "requester_email": "a@b.example", "project": "999999"}, "project", "There is no project"),
        ({"title": "Hi", "requester_email": "a@b.example", "project": str(project.pk),
          "folder": str(other_folder.pk)}, "folder", "belongs to another project"),
        ({"title": "Hi", "requester_email": "a@b.example", "assignee": "agent:999999"}, "assignee",
         "no active agent"),
    ]
    for data, field, reason in cases:
        response = agent_client.post("/tickets/new", {"description": "Kept text", **data})
        page = response.content.decode()
        assert response.status_code == 422, data
        assert _fields_with_errors(page) == [f"id_{field}"], data
        assert reason in page and "Kept text" in page, data
    assert not Item.objects.exists() and not Customer.objects.exists()


def test_required_custom_fields_of_tickets(agent_client: Client) -> None:
    create_custom_field(applies_to="ticket", label="Contract", type="text", required=True, actor=SYSTEM)
    assert "Contract *" in agent_client.get("/tickets/new").content.decode()
    response = agent_client.post("/tickets/new", {"title": "Hi", "requester_email": "a@b.example"})
    assert response.status_code == 422 and "Contract is required" in response.content.decode()
    response = agent_client.post("/tickets/new", {"title": "Hi", "requester_email": "a@b.example",
                                                  "cf_contract": "C-7"})
    assert response.status_code == 302 and Item.objects.get().custom_fields == {"contract": "C-7"}


def test_folder_options_follow_the_project(agent_client: Client, project: Project, folder: Folder) -> None:
    page = agent_client.get("/items/folder-options", {"project": str(project.pk)}, headers=HX).content.decode()
    assert f'<option value="{folder.pk}">Phase 1</option>' in page
    assert "Phase 1" not in agent_client.get("/items/folder-options", {"project": "x"}).content.decode()


# -- the item page ---------------------------------------------------------------------------------


def test_item_page_shows_the_conversation(agent_client: Client, agent: Agent) -> None:
    ticket = _ticket(description="Third floor.")
    add_message(ticket, kind="customer", body="Any news?", actor=Actor.customer("bob@acme.example"))
    add_message(ticket, kind="reply", body="On our way.", actor=Actor.agent(agent),
                attachments=[NewAttachment(name="plan.pdf", content=b"%PDF-1.4", content_type="application/pdf")])
    add_message(ticket, kind="note", body="Bring an extinguisher.", actor=Actor.agent(agent))
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert "Printer on fire" in page and "Third floor." in page
    assert 'class="msg msg-customer"' in page and 'class="msg msg-reply"' in page and 'class="msg msg-note"' in page
    assert "Any news?" in page and "On our way." in page and "Bring an extinguisher." in page
    assert "Ana Agent" in page and "To bob@acme.example" in page
    attachment = Attachment.objects.get()
    assert f'href="/attachments/{attachment.pk}"' in page and "plan.pdf" in page
    for label in ('>Reply</label>', '>Internal note</label>', "Send reply", "Add note", ">Status</label>",
                  ">Priority</label>", 'id="project-label">Project</span>', ">Requester</label>", "Followers",
                  ">Minutes</label>", "Log time", "History"):
        assert label in page, label


def test_the_project_menu_loads_when_it_is_opened(agent_client: Client, project: Project, folder: Folder) -> None:
    other = create_project("Website", actor=SYSTEM)
    copy = create_folder("Copy", project=other.pk, actor=SYSTEM)
    ticket = _ticket(project=project.pk, folder=folder.pk)
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    # The page names the place and fetches the menu only when it is opened.
    assert "Acme rollout / Phase 1</summary>" in page and 'id="prop-project"' not in page and "Website" not in page
    assert f'hx-get="/tickets/{ticket.pk}/project-menu" hx-trigger="toggle once"' in page
    response = agent_client.get(f"/tickets/{ticket.pk}/project-menu", headers=HX)
    menu = response.content.decode()
    assert response.status_code == 200 and "<html" not in menu
    assert '<label for="prop-project">Project</label>' in menu and '<label for="prop-folder">Folder</label>' in menu
    assert f'<option value="{project.pk}" selected>Acme rollout</option>' in menu and "Website" in menu
    assert f'<option value="{folder.pk}" selected>Phase 1</option>' in menu and "Copy" not in menu  # this project's
    # Without htmx, the link in the menu opens the page with the menu in it.
    response = agent_client.get(f"/tickets/{ticket.pk}/project-menu")
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.pk}?menu=project#project-menu"
    page = agent_client.get(f"/tickets/{ticket.pk}?menu=project").content.decode()
    assert 'id="project-menu" open' in page and '<label for="prop-project">Project</label>' in page
    # One post moves to another project and one of its folders.
    response = agent_client.post(f"/tickets/{ticket.pk}/properties/project",
                                 {"project": str(other.pk), "folder": str(copy.pk)}, headers=HX)
    assert response.status_code == 200 and "Website / Copy</summary>" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.project == other and ticket.folder == copy
    # A refused move keeps the menu open, with the reason under the fields.
    response = agent_client.post(f"/tickets/{ticket.pk}/properties/project",
                                 {"project": str(other.pk), "folder": str(folder.pk)}, headers=HX)
    page = response.content.decode()
    assert response.status_code == 422 and 'id="project-menu" open' in page and "belongs to another project" in page
    assert agent_client.get("/tickets/999999/project-menu", headers=HX).status_code == 404
    task = create_task(ItemDraft(title="Plan"), actor=SYSTEM)
    assert agent_client.get(f"/tickets/{task.pk}/project-menu", headers=HX).status_code == 404


def test_item_page_queries_do_not_grow_with_projects(agent_client: Client) -> None:
    ticket = _ticket()
    few = _count_queries(agent_client, f"/tickets/{ticket.pk}")
    for number in range(20):
        create_folder("Folder", project=create_project(f"Project {number}", actor=SYSTEM).pk, actor=SYSTEM)
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert _count_queries(agent_client, f"/tickets/{ticket.pk}") == few and "Project 7" not in page
    menu = agent_client.get(f"/tickets/{ticket.pk}/project-menu", headers=HX).content.decode()
    assert menu.count("<option") == 21 + 1  # No project, 20 projects; No folder


def test_task_page_without_requester(agent_client: Client, agent: Agent) -> None:
    task = create_task(ItemDraft(title="Renew certificates", description="Before June."), actor=Actor.agent(agent))
    page = agent_client.get(f"/tasks/{task.pk}").content.decode()
    assert "Renew certificates" in page and "Before June." in page and "has no requester" in page
    assert 'href="/tasks" aria-current="page"' in page
    response = agent_client.post(f"/tasks/{task.pk}/reply", {"body": "Done on staging."})
    assert response.status_code == 302 and "Reply sent to nobody" in agent_client.get(f"/tasks/{task.pk}").content.decode()
    assert not OutboundMessage.objects.exists()
    response = agent_client.post(f"/tasks/{task.pk}/properties/requester", {"requester_email": "ops@acme.example"},
                                 headers=HX)
    task.refresh_from_db()
    assert response.status_code == 200 and task.requester.email == "ops@acme.example"
    agent_client.post(f"/tasks/{task.pk}/properties/requester", {"requester_email": ""}, headers=HX)
    task.refresh_from_db()
    assert task.requester is None  # a task may have nobody


def test_unknown_items_are_404_and_kinds_redirect(agent_client: Client) -> None:
    task = create_task(ItemDraft(title="Task"), actor=SYSTEM)
    ticket = _ticket()
    assert agent_client.get("/tickets/999999").status_code == 404
    assert agent_client.get("/tasks/999999999999999999").status_code == 404
    response = agent_client.get(f"/tickets/{task.pk}")
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}"
    assert agent_client.get(f"/tasks/{ticket.pk}")["Location"] == f"/tickets/{ticket.pk}"
    assert agent_client.post(f"/tickets/{task.pk}/note", {"body": "x"}).status_code == 404
    assert agent_client.post("/tickets/999999/properties/status", {"status": "open"}).status_code == 404
    assert agent_client.post(f"/tickets/{ticket.pk}/properties/bogus", {}).status_code == 404
    assert agent_client.post("/tickets/999999/time", {"minutes": "5"}).status_code == 404
    assert not Message.objects.exists() and not TimeEntry.objects.exists()


def test_reply_with_files_goes_to_the_outbox_and_a_note_does_not(agent_client: Client) -> None:
    ticket = _ticket()
    files = [SimpleUploadedFile("a.txt", b"hello", content_type="text/plain"),
             SimpleUploadedFile("b.csv", b"x,y\n1,2\n", content_type="text/csv")]
    response = agent_client.post(f"/tickets/{ticket.pk}/reply", {"body": "Fixed.", "attachments": files})
    reply = Message.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.pk}#message-{reply.pk}"
    assert reply.kind == "reply" and reply.recipients == ["bob@acme.example"]
    assert sorted(a.name for a in reply.attachments.all()) == ["a.txt", "b.csv"]
    assert OutboundMessage.objects.filter(message=reply).count() == 1
    page = agent_client.get(response["Location"]).content.decode()
    assert "Reply sent to bob@acme.example." in page
    agent_client.post(f"/tickets/{ticket.pk}/note", {"body": "Internal only."})
    note = Message.objects.get(kind="note")
    assert note.body == "Internal only." and OutboundMessage.objects.count() == 1


def test_bad_messages_show_the_error_and_write_nothing(agent_client: Client) -> None:
    ticket = _ticket()
    response = agent_client.post(f"/tickets/{ticket.pk}/reply", {"body": "   "})
    assert response.status_code == 422 and "Write a message or attach a file." in response.content.decode()
    response = agent_client.post(f"/tickets/{ticket.pk}/note", {
        "body": "See the tool", "attachments": [SimpleUploadedFile("tool.exe", b"MZ")]})
    page = response.content.decode()
    assert response.status_code == 422 and "Files of type .exe cannot be attached" in page
    assert "See the tool</textarea>" in page  # the text is kept
    update_settings({"attachment_max_bytes": 1024}, actor=SYSTEM)
    response = agent_client.post(f"/tickets/{ticket.pk}/reply", {
        "body": "Big", "attachments": [SimpleUploadedFile("big.bin", b"x" * 2048)]})
    assert response.status_code == 422 and "larger than the limit" in response.content.decode()
    assert not Message.objects.exists() and not Attachment.objects.exists() and not OutboundMessage.objects.exists()


def test_attachments_download_as_files(agent_client: Client, client: Client, agent: Agent) -> None:
    ticket = _ticket()
    add_message(ticket, kind="note", body="", actor=Actor.agent(agent),
                attachments=[NewAttachment(name="page.html", content=b"<script>alert(1)</script>",
                                           content_type="text/html")])
    attachment = Attachment.objects.get()
    response = agent_client.get(f"/attachments/{attachment.pk}")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    assert response["Content-Disposition"].startswith("attachment;") and "page.html" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert agent_client.get("/attachments/999999").status_code == 404
    assert client.get(f"/attachments/{attachment.pk}").status_code == 302  # signed out
    attachment.file.storage.delete(attachment.file.name)
    assert agent_client.get(f"/attachments/{attachment.pk}").status_code == 404
    Attachment.objects.filter(pk=attachment.pk).update(file="")  # a row that never had its file
    assert agent_client.get(f"/attachments/{attachment.pk}").status_code == 404


def test_properties_change_in_place(agent_client: Client, agent: Agent, team: Team, project: Project,
                                    folder: Folder) -> None:
    ticket = _ticket()
    base = f"/tickets/{ticket.pk}/properties"
    response = agent_client.post(f"{base}/status", {"status": "open"}, headers=HX)
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page and 'id="properties"' in page
    assert 'id="history" aria-labelledby="item-history-title" hx-swap-oob="true"' in page
    assert "Ana Agent changed the status from New to Open." in page
    agent_client.post(f"{base}/priority", {"priority": "urgent"}, headers=HX)
    agent_client.post(f"{base}/assignees", {"assignees": [f"agent:{agent.pk}", f"team:{team.pk}"]}, headers=HX)
    agent_client.post(f"{base}/project", {"project": str(project.pk)}, headers=HX)
    agent_client.post(f"{base}/folder", {"folder": str(folder.pk)}, headers=HX)
    agent_client.post(f"{base}/followers", {"add_email": "carl@acme.example"}, headers=HX)
    agent_client.post(f"{base}/followers", {"add_agent": str(agent.pk)}, headers=HX)
    ticket = Item.objects.get()
    assert ticket.status.key == "open" and ticket.priority_key == "urgent"
    assert {(a.agent_id, a.team_id) for a in ticket.assignees.all()} == {(agent.pk, None), (None, team.pk)}
    assert ticket.project == project and ticket.folder == folder
    followers = {f.customer.email if f.customer else f.agent.email for f in ticket.followers.all()}
    assert followers == {"bob@acme.example", "carl@acme.example", "ana@deskhand.test"}
    carl = Customer.objects.get(email="carl@acme.example")
    agent_client.post(f"{base}/followers", {"remove": f"customer:{carl.pk}"}, headers=HX)
    assert not ticket.followers.filter(customer=carl).exists()
    agent_client.post(f"{base}/requester", {"requester_email": "dana@initech.example"}, headers=HX)
    ticket.refresh_from_db()
    assert ticket.requester.email == "dana@initech.example" and ticket.organization.name == "initech.example"
    response = agent_client.post(f"{base}/text", {"title": "Printer fixed", "description": "Done."})
    assert response.status_code == 302
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert "Printer fixed" in page and "Ana Agent" in page and "Second line" in page
    assert "Followers" in page and "Urgent" in page


def test_property_errors_stay_next_to_the_field(agent_client: Client, project: Project) -> None:
    ticket = _ticket()
    other = create_project("Other", actor=SYSTEM)
    stranger = create_folder("Elsewhere", project=other.pk, actor=SYSTEM)
    change_item(ticket, changes=ItemChanges(project=project.pk), actor=SYSTEM)
    before = AuditEvent.objects.count()
    base = f"/tickets/{ticket.pk}/properties"
    for name, data, reason in [
        ("status", {"status": "bogus"}, "is not a ticket status"),
        ("priority", {"priority": "soon"}, "Priority is low, normal, high or urgent"),
        ("assignees", {"assignees": ["agent:999999"]}, "no active agent"),
        ("project", {"project": "999999"}, "There is no project"),
        ("folder", {"folder": str(stranger.pk)}, "belongs to another project"),
        ("requester", {"requester_email": ""}, "A ticket needs a requester"),
        ("requester", {"requester_email": "not an address"}, ""),
        ("followers", {"add_email": "nope"}, ""),
    ]:
        response = agent_client.post(f"{base}/{name}", data, headers=HX)
        page = response.content.decode()
        assert response.status_code == 422 and reason in page, name
        label = 'id="assignees-label"' if name == "assignees" else (
            "Followers" if name == "followers" else f'for="prop-{name}"')
        assert page.index(label) < page.index('class="field-error"') < page.index("</form>", page.index(label)) or \
            name == "followers", name
    response = agent_client.post(f"{base}/text", {"title": " ", "description": "x"})
    assert response.status_code == 422 and "Enter a title" in response.content.decode()
    assert AuditEvent.objects.count() == before
    ticket.refresh_from_db()
    assert ticket.status.key == "new" and ticket.title == "Printer on fire"


def test_custom_fields_change_in_place(agent_client: Client) -> None:
    create_custom_field(applies_to="ticket", label="Seats", type="number", actor=SYSTEM)
    ticket = _ticket()
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert ">Seats</label>" in page
    response = agent_client.post(f"/tickets/{ticket.pk}/properties/fields", {"cf_seats": "many"}, headers=HX)
    assert response.status_code == 422 and "enter a number" in response.content.decode()
    response = agent_client.post(f"/tickets/{ticket.pk}/properties/fields", {"cf_seats": "12"}, headers=HX)
    ticket.refresh_from_db()
    assert response.status_code == 200 and ticket.custom_fields == {"seats": 12}


def test_log_time_on_the_item(agent_client: Client, agent: Agent) -> None:
    ticket = _ticket()
    response = agent_client.post(f"/tickets/{ticket.pk}/time",
                                 {"minutes": "90", "date": "2024-05-02", "note": "Call", "billable": "on"},
                                 headers=HX)
    page = response.content.decode()
    assert response.status_code == 200 and 'id="time"' in page and "1 h 30 min" in page and "Call" in page
    assert 'hx-swap-oob="true"' in page and "Ana Agent logged 1 h 30 min on" in page
    entry = TimeEntry.objects.get()
    assert entry.agent == agent and entry.minutes == 90 and entry.billable and str(entry.date) == "2024-05-02"
    agent_client.post(f"/tickets/{ticket.pk}/time", {"minutes": "15", "note": "Not billable"})
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert "1 h 45 min · 1 h 30 min billable" in page


def test_bad_time_is_refused_at_the_field(agent_client: Client) -> None:
    ticket = _ticket()
    for data, reason in [({"minutes": "lots"}, "Enter the time spent, such as 90, 1:30, 1h 30m or 1.5h."),
                         ({"minutes": "25h"}, "Minutes are a whole number from 1 to 1440."),
                         ({"minutes": "0"}, "Minutes are a whole number"),
                         ({"minutes": "30", "date": "yesterday"}, "A date is written YYYY-MM-DD"),
                         ({"minutes": "30", "date": "2999-01-01"}, "future day")]:
        response = agent_client.post(f"/tickets/{ticket.pk}/time", data, headers=HX)
        page = response.content.decode()
        assert response.status_code == 422 and reason in page and 'class="field-error"' in page, data
    assert not TimeEntry.objects.exists()


def test_history_names_people_and_statuses(agent_client: Client, agent: Agent) -> None:
    ticket = _ticket()
    change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef(kind="agent", id=agent.pk)], status="pending"),
                actor=Actor.agent(agent))
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert "Ana Agent changed the status from New to Pending; assigned the ticket to Ana Agent." in page


# -- query budgets ---------------------------------------------------------------------------------


def _count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


@pytest.mark.parametrize("view", ["list", "by_portfolio", "by_customer"])
def test_list_queries_do_not_grow_with_items(agent_client: Client, agent: Agent, team: Team, project: Project,
                                            folder: Folder, view: str) -> None:
    def add(count: int, start: int) -> None:
        for number in range(start, start + count):
            item = _ticket(f"Ticket {number}", f"user{number}@org{number}.example", project=project.pk,
                           folder=folder.pk)
            change_item(item, changes=ItemChanges(assignees=[AssigneeRef(kind="agent", id=agent.pk), AssigneeRef(kind="team", id=team.pk)]), actor=SYSTEM)

    add(3, 0)
    few = _count_queries(agent_client, f"/tickets?view={view}")
    add(27, 3)
    many = _count_queries(agent_client, f"/tickets?view={view}")
    # 20, and 4 for the workspace: the views beside the list, unread marks, last messages, who is on them.
    assert many == few and many <= 24


def test_item_page_queries_do_not_grow_with_messages(agent_client: Client, agent: Agent) -> None:
    ticket = _ticket()

    def add(count: int) -> None:
        for number in range(count):
            add_message(ticket, kind="reply" if number % 2 else "note", body=f"Message {number}",
                        attachments=[NewAttachment(name=f"f{number}.txt", content=b"x")], actor=Actor.agent(agent))

    add(2)
    few = _count_queries(agent_client, f"/tickets/{ticket.pk}")
    add(18)
    many = _count_queries(agent_client, f"/tickets/{ticket.pk}")
    # The project menu is not loaded (18, 19: the survey answer, the tasks); 4 for the workspace: seen,
    # here, who else is, the views beside the page; 1 marks the agent's notifications about it read;
    # 4 for the reply box (canned responses, macros, the draft, the statuses to send and set) and
    # 1 for the copies of the replies shown. A constant: none grows with the conversation.
    assert many == few and many <= 29


def test_create_a_task_from_the_ticket_page(agent_client: Client) -> None:
    ticket = _ticket()
    response = agent_client.post(f"/tickets/{ticket.pk}/tasks", {"title": "Order toner"})
    task = Item.objects.get(kind="task")
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}"
    assert f"ticket #{ticket.pk}" in agent_client.get(f"/tasks/{task.pk}").content.decode()
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert f"Ana Agent made the task {task.reference} “Order toner” from this ticket." in page
    refused = agent_client.post(f"/tickets/{ticket.pk}/tasks", {"title": "  "})
    assert refused.status_code == 422 and "Title" in refused.content.decode()
    assert agent_client.post(f"/tickets/{task.pk}/tasks", {"title": "x"}).status_code == 404


@pytest.mark.parametrize(("typed", "minutes"), [("90", 90), ("1:30", 90), ("1h 30m", 90), ("1h", 60), ("45m", 45),
                                                ("1.5h", 90)])
def test_the_item_page_takes_time_as_the_timesheets_do(agent_client: Client, typed: str, minutes: int) -> None:
    ticket = _ticket()
    response = agent_client.post(f"/tickets/{ticket.pk}/time", {"minutes": typed}, headers=HX)
    assert response.status_code == 200 and TimeEntry.objects.get().minutes == minutes


def test_the_new_item_titles_maxlength_is_the_servers_limit(agent_client: Client) -> None:
    page = agent_client.get("/tickets/new").content.decode()
    assert re.search(r"<input type=\"text\" name=\"title\"[^>]* maxlength=\"300\"", page)
    response = agent_client.post("/tickets/new", {"title": "x" * 301, "requester_email": "bob@acme.example"})
    assert response.status_code == 422 and "Title has at most 300 characters." in response.content.decode()
    assert not Item.objects.exists()
