"""Projects pages: the tree, adding, renaming and deleting portfolios, projects and folders, a
project's page, and the items and projects on customer and organization profiles."""

from __future__ import annotations

from typing import Any

from django.test import Client

from deskhand.agents.models import Agent
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.models import Organization
from deskhand.customers.services import create_organization
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Folder, Item, Portfolio, Project
from deskhand.work.services.items import create_task, submit_ticket
from deskhand.work.services.projects import create_folder, create_portfolio, create_project
from deskhand.work.services.timesheets import log_time


def _ticket(title: str, *, email: str = "bob@acme.example", **kwargs: Any) -> Item:
    return submit_ticket(ItemDraft(title=title, requester_email=email, **kwargs), actor=SYSTEM)


def _tree() -> tuple[Portfolio, Project, Folder]:
    portfolio = create_portfolio("Operations", actor=SYSTEM)
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    project = create_project("Website", portfolio=portfolio.pk, organization=acme.pk, actor=SYSTEM)
    folder = create_folder("Design", project=project.pk, actor=SYSTEM)
    return portfolio, project, folder


def test_tree_shows_portfolios_projects_folders_with_open_counts(agent_client: Client) -> None:
    portfolio, project, folder = _tree()
    create_project("Loose ends", actor=SYSTEM)
    _ticket("Logo too small", project=project.pk, folder=folder.pk)
    _ticket("Header broken", project=project.pk)
    _ticket("Already fixed", project=project.pk, status="done")
    create_task(ItemDraft(title="Draft copy", project=project.pk, folder=folder.pk), actor=SYSTEM)
    _ticket("Nowhere")
    response = agent_client.get("/projects")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Operations" in page and "Website" in page and "Design" in page and "No portfolio" in page
    assert "Loose ends" in page and "Acme" in page
    assert f'href="/tickets?project={project.pk}"' in page
    assert f'href="/tasks?project={project.pk}&amp;folder={folder.pk}"' in page
    assert 'aria-label="2 open tickets in Website"' in page  # the done ticket is not counted
    assert 'aria-label="1 open ticket in Design"' in page and 'aria-label="1 open task in Design"' in page
    assert 'href="/tickets?project=none">1 open ticket' in page


def test_add_portfolio_project_and_folder(agent_client: Client) -> None:
    acme = create_organization("Acme", actor=SYSTEM)
    response = agent_client.post("/projects/portfolios", {"name": "Operations"})
    assert response.status_code == 302
    portfolio = Portfolio.objects.get()
    response = agent_client.post("/projects/new", {"name": "Website", "portfolio": str(portfolio.pk),
                                                   "organization": "acme"})
    project = Project.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}"
    assert project.portfolio == portfolio and project.organization == acme
    response = agent_client.post("/projects/folders", {"name": "Design", "project": str(project.pk)})
    assert response.status_code == 302 and Folder.objects.get().project == project
    response = agent_client.post(f"/projects/{project.pk}/folders", {"name": "Copy"})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}"
    assert sorted(project.folders.values_list("name", flat=True)) == ["Copy", "Design"]


def test_bad_input_shows_a_field_error_and_writes_nothing(agent_client: Client) -> None:
    create_project("Website", actor=SYSTEM)
    for url, data, message in [
        ("/projects/portfolios", {"name": "  "}, "This field is required"),
        ("/projects/new", {"name": ""}, "This field is required"),
        ("/projects/new", {"name": "WEBSITE"}, "already exists"),
        ("/projects/new", {"name": "Shop", "organization": "Nope Inc"}, "There is no organization named"),
        ("/projects/new", {"name": "Shop", "portfolio": "999"}, "Select a valid choice"),
        ("/projects/folders", {"name": "Design", "project": "999"}, "Select a valid choice"),
        ("/projects/folders", {"name": "", "project": ""}, "This field is required"),
    ]:
        response = agent_client.post(url, data)
        page = response.content.decode()
        assert response.status_code == 422, url
        assert 'class="field-error"' in page and message in page, (url, data)
    assert list(Project.objects.values_list("name", flat=True)) == ["Website"]
    assert not Portfolio.objects.exists() and not Folder.objects.exists()
    response = agent_client.post("/projects/new", {"name": "Shop", "organization": "Nope Inc"})
    assert 'value="Shop"' in response.content.decode()


def test_duplicate_folder_in_a_project_is_refused_on_the_project_page(agent_client: Client) -> None:
    _portfolio, project, _folder = _tree()
    response = agent_client.post(f"/projects/{project.pk}/folders", {"name": "design"})
    assert response.status_code == 422 and "already exists" in response.content.decode()
    assert project.folders.count() == 1


def test_rename_portfolio_project_and_folder(agent_client: Client) -> None:
    portfolio, project, folder = _tree()
    create_portfolio("Sales", actor=SYSTEM)
    assert agent_client.post(f"/projects/portfolios/{portfolio.pk}", {"name": "Ops"}).status_code == 302
    assert agent_client.post(f"/projects/{project.pk}/rename", {"name": "Site"}).status_code == 302
    assert agent_client.post(f"/projects/folders/{folder.pk}", {"name": "Art"}).status_code == 302
    portfolio.refresh_from_db()
    project.refresh_from_db()
    folder.refresh_from_db()
    assert (portfolio.name, project.name, folder.name) == ("Ops", "Site", "Art")

    response = agent_client.post(f"/projects/portfolios/{portfolio.pk}", {"name": "sales"})
    page = response.content.decode()
    assert response.status_code == 409 and "already exists" in page and 'value="sales"' in page
    response = agent_client.post(f"/projects/folders/{folder.pk}", {"name": "", "from": "project"})
    assert response.status_code == 422 and "Enter a name" in response.content.decode()
    assert "Properties" in response.content.decode()  # shown on the project's page, where it was typed
    portfolio.refresh_from_db()
    folder.refresh_from_db()
    assert portfolio.name == "Ops" and folder.name == "Art"


def test_deletes_ask_first_and_keep_what_they_held(agent_client: Client) -> None:
    portfolio, project, folder = _tree()
    ticket = _ticket("Logo too small", project=project.pk, folder=folder.pk)

    confirm = agent_client.get(f"/projects/folders/{folder.pk}/delete", {"next": f"/projects/{project.pk}"})
    assert "will stay in the project Website" in confirm.content.decode() and Folder.objects.exists()
    response = agent_client.post(f"/projects/folders/{folder.pk}/delete", {"next": f"/projects/{project.pk}"})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}"
    ticket.refresh_from_db()
    assert not Folder.objects.exists() and ticket.project == project and ticket.folder is None

    confirm = agent_client.get(f"/projects/portfolios/{portfolio.pk}/delete")
    assert "Its 1 project will stay, in no portfolio." in confirm.content.decode()
    agent_client.post(f"/projects/portfolios/{portfolio.pk}/delete")
    project.refresh_from_db()
    assert not Portfolio.objects.exists() and project.portfolio is None

    assert "stay, outside any project" in agent_client.get(f"/projects/{project.pk}/delete").content.decode()
    response = agent_client.post(f"/projects/{project.pk}/delete")
    ticket.refresh_from_db()
    assert response["Location"] == "/projects" and not Project.objects.exists() and ticket.project is None


def test_next_never_leaves_the_site(agent_client: Client) -> None:
    _portfolio, _project, folder = _tree()
    response = agent_client.post(f"/projects/folders/{folder.pk}/delete", {"next": "https://evil.example/"})
    assert response["Location"] == "/projects"


def test_without_portfolios_the_tree_has_no_portfolio_level(agent_client: Client, admin: Agent) -> None:
    _portfolio, project, _folder = _tree()
    update_settings({"portfolios_enabled": False}, actor=Actor.agent(admin))
    page = agent_client.get("/projects").content.decode()
    assert "Website" in page and "Design" in page
    assert "Operations" not in page and "No portfolio" not in page and "Add portfolio" not in page
    assert 'name="portfolio"' not in page
    response = agent_client.post("/projects/new", {"name": "Shop", "portfolio": "1"})
    assert response.status_code == 302 and Project.objects.get(name="Shop").portfolio is None
    detail = agent_client.get(f"/projects/{project.pk}").content.decode()
    assert 'name="portfolio"' not in detail
    # Saving the project's other properties keeps its (hidden) portfolio.
    agent_client.post(f"/projects/{project.pk}", {"name": "Website", "organization": "Acme"})
    project.refresh_from_db()
    assert project.portfolio is not None


def test_project_page_lists_items_folders_and_time(agent_client: Client, agent: Agent) -> None:
    _portfolio, project, folder = _tree()
    ticket = _ticket("Logo too small", project=project.pk, folder=folder.pk)
    create_task(ItemDraft(title="Draft copy", project=project.pk), actor=SYSTEM)
    _ticket("Elsewhere")
    log_time(ticket, minutes=90, actor=Actor.agent(agent))
    log_time(ticket, minutes=30, billable=False, actor=Actor.agent(agent))
    response = agent_client.get(f"/projects/{project.pk}")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Logo too small" in page and "Draft copy" in page and "Elsewhere" not in page
    assert f'href="/tickets/{ticket.pk}"' in page and "Design" in page
    assert "2h" in page and "1h 30m" in page  # logged and billable
    assert f'href="/timesheets?project={project.pk}"' in page
    assert 'value="Acme"' in page and 'value="Website"' in page


def test_edit_project_properties(agent_client: Client) -> None:
    portfolio, project, _folder = _tree()
    globex = create_organization("Globex", actor=SYSTEM)
    response = agent_client.post(f"/projects/{project.pk}", {"name": "Site", "portfolio": "",
                                                              "organization": "Globex"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.portfolio, project.organization) == ("Site", None, globex)
    response = agent_client.post(f"/projects/{project.pk}", {"name": "Site", "portfolio": str(portfolio.pk),
                                                              "organization": "No organization"})
    project.refresh_from_db()
    assert project.portfolio == portfolio and project.organization is None

    response = agent_client.post(f"/projects/{project.pk}", {"name": "Site", "organization": "Nope"})
    assert response.status_code == 422 and "There is no organization named" in response.content.decode()
    response = agent_client.post(f"/projects/{project.pk}", {"name": ""})
    assert response.status_code == 422
    project.refresh_from_db()
    assert project.name == "Site" and project.portfolio == portfolio


def test_project_page_history_says_which_automation_filed_it(agent_client: Client, admin_actor: Actor) -> None:
    from deskhand.automations.rules import Action, ActionType, ItemKind, Rule, Trigger, TriggerType
    from deskhand.automations.services import create_automation

    create_automation(Rule("Support folder", ItemKind.PROJECT, Trigger(TriggerType.CREATED),
                           actions=(Action(ActionType.ADD_FOLDER, name="Support"),)), actor=admin_actor)
    project = create_project("Website", actor=SYSTEM)
    page = agent_client.get(f"/projects/{project.pk}").content.decode()
    assert "History" in page and "automation.ran" not in page
    assert "Rule “Support folder” ran: added folder Support." in page


def test_unknown_records_are_404(agent_client: Client, db: Any) -> None:
    assert agent_client.get("/projects/999").status_code == 404
    assert agent_client.post("/projects/portfolios/999", {"name": "x"}).status_code == 404
    assert agent_client.get("/projects/folders/999/delete").status_code == 404


def test_projects_need_a_signed_in_agent(client: Client, db: Any) -> None:
    response = client.get("/projects")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def _grow(portfolios: int, start: int) -> None:
    for p in range(start, start + portfolios):
        portfolio = create_portfolio(f"Portfolio {p}", actor=SYSTEM)
        for j in range(2):
            project = create_project(f"Project {p}-{j}", portfolio=portfolio.pk, actor=SYSTEM)
            for k in range(2):
                folder = create_folder(f"Folder {k}", project=project.pk, actor=SYSTEM)
                _ticket(f"Ticket {p}-{j}-{k}", project=project.pk, folder=folder.pk)
                create_task(ItemDraft(title=f"Task {p}-{j}-{k}", project=project.pk, folder=folder.pk), actor=SYSTEM)


def test_projects_page_query_count_does_not_grow(agent_client: Client, django_assert_max_num_queries: Any) -> None:
    _grow(2, 0)
    with django_assert_max_num_queries(20) as few:
        agent_client.get("/projects")
    _grow(6, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = agent_client.get("/projects").content.decode()
    assert "Portfolio 7" in page and "Project 7-1" in page


def test_project_page_query_count_does_not_grow(agent_client: Client, agent: Agent,
                                                django_assert_max_num_queries: Any) -> None:
    project = create_project("Website", actor=SYSTEM)
    folder = create_folder("Design", project=project.pk, actor=SYSTEM)

    def grow(count: int) -> None:
        for index in range(count):
            ticket = _ticket(f"T{index}", email=f"c{index}@acme.example", project=project.pk, folder=folder.pk)
            create_task(ItemDraft(title=f"K{index}", project=project.pk), actor=SYSTEM)
            log_time(ticket, minutes=10, actor=Actor.agent(agent))

    grow(2)
    with django_assert_max_num_queries(30) as few:
        agent_client.get(f"/projects/{project.pk}")
    grow(15)
    with django_assert_max_num_queries(len(few.captured_queries)):
        agent_client.get(f"/projects/{project.pk}")


# -- customer and organization profiles ------------------------------------------------------------


def test_customer_profile_lists_their_requests(agent_client: Client) -> None:
    ticket = _ticket("Printer on fire", email="ana@acme.example")
    task = create_task(ItemDraft(title="Call Ana back", requester_email="ana@acme.example"), actor=SYSTEM)
    _ticket("Someone else's", email="zed@other.example")
    customer = ticket.requester
    page = agent_client.get(f"/customers/{customer.pk}").content.decode()
    assert "Requests" in page and "Printer on fire" in page and "Call Ana back" in page
    assert "Someone else" not in page
    assert f'href="/tickets/{ticket.pk}"' in page and f'href="/tasks/{task.pk}"' in page
    assert f"#{ticket.pk}" in page and "New" in page
    assert f'href="/tickets?requester={customer.pk}"' in page


def test_organization_profile_lists_requests_and_projects(agent_client: Client) -> None:
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    ticket = _ticket("Printer on fire", email="ana@acme.example")
    _ticket("Other company", email="zed@other.example")
    create_project("Acme website", organization=acme.pk, actor=SYSTEM)
    create_project("Internal", actor=SYSTEM)
    page = agent_client.get(f"/organizations/{acme.pk}").content.decode()
    assert "Printer on fire" in page and "ana@acme.example" in page and "Other company" not in page
    assert f'href="/tickets/{ticket.pk}"' in page and f'href="/tickets?organization={acme.pk}"' in page
    assert "Acme website" in page and "Internal" not in page
    assert Organization.objects.get(pk=acme.pk).projects.count() == 1
