"""Portfolios → projects → folders, and the workflow statuses, through /api/v1."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.audit.models import AuditEvent
from deskhand.conftest import ApiClient
from deskhand.work.models import Folder, Portfolio, Project, Status


def _snapshot() -> tuple[int, ...]:
    return (Portfolio.objects.count(), Project.objects.count(), Folder.objects.count(), Status.objects.count(),
            AuditEvent.objects.count())


def _created(response: Any) -> Any:
    assert response.status_code == 201, response.content
    return response.json()


def test_portfolios(api: ApiClient) -> None:
    products = _created(api.post("/portfolios", {"name": " Products "}))
    assert products == {"id": products["id"], "name": "Products", "project_count": 0,
                        "created_at": products["created_at"]}
    _created(api.post("/projects", {"name": "Website", "portfolio": products["id"]}))
    _created(api.post("/portfolios", {"name": "Customers"}))
    listing = api.get("/portfolios").json()
    assert [(p["name"], p["project_count"]) for p in listing["items"]] == [("Customers", 0), ("Products", 1)]
    assert api.get("/portfolios", {"search": "prod"}).json()["count"] == 1
    assert api.get(f"/portfolios/{products['id']}").json()["project_count"] == 1
    renamed = api.patch(f"/portfolios/{products['id']}", {"name": "Product lines"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Product lines"
    assert api.delete(f"/portfolios/{products['id']}").status_code == 204
    assert api.get(f"/portfolios/{products['id']}").status_code == 404
    # Its projects stay, outside any portfolio.
    assert api.get("/projects").json()["items"][0]["portfolio"] is None


def test_portfolios_can_be_switched_off(api: ApiClient) -> None:
    api.patch("/settings", {"portfolios_enabled": False})
    before = _snapshot()
    response = api.post("/portfolios", {"name": "Products"})
    assert response.status_code == 422 and response.json()["field"] == "name"
    assert _snapshot() == before


def test_projects(api: ApiClient) -> None:
    products = _created(api.post("/portfolios", {"name": "Products"}))
    acme = api.post("/organizations", {"name": "Acme", "domains": ["acme.com"]}).json()
    website = _created(api.post("/projects", {"name": "Website", "portfolio": products["id"],
                                              "organization": acme["id"]}))
    assert website == {"id": website["id"], "name": "Website", "portfolio": products["id"],
                       "portfolio_name": "Products", "organization": acme["id"], "organization_name": "Acme",
                       "created_at": website["created_at"]}
    intranet = _created(api.post("/projects", {"name": "Intranet"}))
    assert (intranet["portfolio"], intranet["organization"]) == (None, None)

    def names(**params: Any) -> list[str]:
        response = api.get("/projects", params)
        assert response.status_code == 200, response.content
        return [p["name"] for p in response.json()["items"]]

    assert names() == ["Intranet", "Website"]
    assert names(portfolio=products["id"]) == ["Website"]
    assert names(portfolio="none") == ["Intranet"]
    assert names(organization=acme["id"]) == ["Website"]
    assert names(organization="none") == ["Intranet"]
    assert names(search="web") == ["Website"]
    moved = api.patch(f"/projects/{intranet['id']}", {"portfolio": products["id"], "name": "Staff site"})
    assert moved.status_code == 200 and moved.json()["portfolio"] == products["id"]
    assert moved.json()["name"] == "Staff site"
    assert api.patch(f"/projects/{website['id']}", {"organization": None}).json()["organization"] is None
    assert api.get(f"/projects/{website['id']}").json()["organization"] is None


def test_deleting_a_project_keeps_its_items(api: ApiClient) -> None:
    project = _created(api.post("/projects", {"name": "Website"}))
    folder = _created(api.post("/folders", {"name": "Bugs", "project": project["id"]}))
    task = api.post("/tasks", {"title": "Fix", "project": project["id"], "folder": folder["id"]}).json()
    assert api.delete(f"/projects/{project['id']}").status_code == 204
    assert api.get(f"/projects/{project['id']}").status_code == 404
    assert api.get(f"/folders/{folder['id']}").status_code == 404
    body = api.get(f"/tasks/{task['id']}").json()
    assert (body["project"], body["folder"]) == (None, None)


def test_folders(api: ApiClient) -> None:
    website = _created(api.post("/projects", {"name": "Website"}))
    intranet = _created(api.post("/projects", {"name": "Intranet"}))
    bugs = _created(api.post("/folders", {"name": "Bugs", "project": website["id"]}))
    assert bugs == {"id": bugs["id"], "name": "Bugs", "project": website["id"], "project_name": "Website",
                    "created_at": bugs["created_at"]}
    # The same name in another project is another folder.
    _created(api.post("/folders", {"name": "Bugs", "project": intranet["id"]}))
    _created(api.post("/folders", {"name": "Ideas", "project": website["id"]}))
    assert api.get("/folders").json()["count"] == 3
    assert [f["name"] for f in api.get("/folders", {"project": website["id"]}).json()["items"]] == ["Bugs", "Ideas"]
    assert api.patch(f"/folders/{bugs['id']}", {"name": "Defects"}).json()["name"] == "Defects"
    task = api.post("/tasks", {"title": "Fix", "project": website["id"], "folder": bugs["id"]}).json()
    assert api.delete(f"/folders/{bugs['id']}").status_code == 204
    body = api.get(f"/tasks/{task['id']}").json()
    assert (body["project"], body["folder"]) == (website["id"], None)


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/portfolios", {"name": ""}, 422, "name"),
        ("/portfolios", {"name": 5}, 422, "name"),
        ("/portfolios", {}, 422, "name"),
        ("/portfolios", {"name": "PRODUCTS"}, 409, "name"),
        ("/projects", {"name": ""}, 422, "name"),
        ("/projects", {"name": "x" * 201}, 422, "name"),
        ("/projects", {"name": "website"}, 409, "name"),
        ("/projects", {"name": "New", "portfolio": 999999}, 422, "portfolio"),
        ("/projects", {"name": "New", "portfolio": "Products"}, 422, "portfolio"),
        ("/projects", {"name": "New", "organization": 999999}, 422, "organization"),
        ("/folders", {"name": "Bugs"}, 422, "project"),
        ("/folders", {"name": "Bugs", "project": 999999}, 422, "project"),
        ("/folders", {"name": "", "project": 0}, 422, "project"),
        ("/folders", {"name": "BUGS", "project": "website"}, 422, "project"),
        ("/statuses", {"kind": "case", "key": "x", "label": "X", "category": "open"}, 422, "kind"),
        ("/statuses", {"kind": "ticket", "key": "Bad Key", "label": "X", "category": "open"}, 422, "key"),
        ("/statuses", {"kind": "ticket", "key": "x", "label": "", "category": "open"}, 422, "label"),
        ("/statuses", {"kind": "ticket", "key": "x", "label": "X", "category": "closed"}, 422, "category"),
        ("/statuses", {"kind": "ticket", "key": "open", "label": "X", "category": "open"}, 409, "key"),
    ],
)
def test_bad_input_writes_nothing(api: ApiClient, path: str, body: dict[str, Any], status: int, field: str) -> None:
    api.post("/portfolios", {"name": "Products"})
    website = api.post("/projects", {"name": "Website"}).json()
    api.post("/folders", {"name": "Bugs", "project": website["id"]})
    before = _snapshot()
    response = api.post(path, body)
    assert response.status_code == status, response.content
    assert response.json()["field"] == field and response.json()["detail"]
    assert _snapshot() == before


def test_bad_changes(api: ApiClient) -> None:
    website = _created(api.post("/projects", {"name": "Website"}))
    _created(api.post("/projects", {"name": "Intranet"}))
    folder = _created(api.post("/folders", {"name": "Bugs", "project": website["id"]}))
    _created(api.post("/folders", {"name": "Ideas", "project": website["id"]}))
    before = _snapshot()
    for path, body, status, field in [
        (f"/projects/{website['id']}", {"name": "intranet"}, 409, "name"),
        (f"/projects/{website['id']}", {"portfolio": 999999}, 422, "portfolio"),
        (f"/projects/{website['id']}", {"name": None}, 422, "name"),
        (f"/folders/{folder['id']}", {"name": "ideas"}, 409, "name"),
        (f"/folders/{folder['id']}", {"name": ""}, 422, "name"),
    ]:
        response = api.patch(path, body)
        assert response.status_code == status and response.json()["field"] == field, (path, body, response.content)
    assert _snapshot() == before
    assert api.get(f"/projects/{website['id']}").json()["name"] == "Website"


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/portfolios/999999"), ("patch", "/portfolios/999999"), ("delete", "/portfolios/999999"),
     ("get", "/projects/999999"), ("patch", "/projects/999999"), ("delete", "/projects/999999"),
     ("get", "/folders/999999"), ("patch", "/folders/999999"), ("delete", "/folders/999999"),
     ("patch", "/statuses/999999"), ("delete", "/statuses/999999")],
)
def test_unknown_ids_are_404(api: ApiClient, method: str, path: str) -> None:
    response = api.patch(path, {"name": "x"}) if method == "patch" else getattr(api, method)(path)
    assert response.status_code == 404 and response.json()["detail"]


def test_statuses(api: ApiClient) -> None:
    tickets = api.get("/statuses", {"kind": "ticket"}).json()
    assert [s["key"] for s in tickets["items"]] == ["new", "open", "pending", "done"]
    assert set(tickets["items"][0]) == {"id", "kind", "key", "label", "category", "position"}
    assert api.get("/statuses").json()["count"] == 8
    assert api.get("/statuses", {"kind": "nope"}).json()["field"] == "kind"
    waiting = _created(api.post("/statuses", {"kind": "ticket", "key": "waiting_on_vendor",
                                              "label": "Waiting on vendor", "category": "pending"}))
    assert (waiting["kind"], waiting["category"], waiting["position"]) == ("ticket", "pending", 4)
    changed = api.patch(f"/statuses/{waiting['id']}", {"label": "Vendor", "position": 1})
    assert changed.status_code == 200 and (changed.json()["label"], changed.json()["position"]) == ("Vendor", 1)
    ticket = api.post("/tickets", {"title": "x", "requester_email": "ana@acme.com",
                                   "status": "waiting_on_vendor"}).json()
    in_use = api.delete(f"/statuses/{waiting['id']}")
    assert in_use.status_code == 409
    api.patch(f"/tickets/{ticket['id']}", {"status": "open"})
    assert api.delete(f"/statuses/{waiting['id']}").status_code == 204
    done = next(s for s in tickets["items"] if s["key"] == "done")
    assert api.delete(f"/statuses/{done['id']}").status_code == 409
    built_in = api.patch(f"/statuses/{done['id']}", {"category": "open"})
    assert built_in.status_code == 422 and built_in.json()["field"] == "category"
    assert api.patch(f"/statuses/{done['id']}", {"position": -1}).json()["field"] == "position"


def test_only_admins_change_the_workflow(api: ApiClient, agent_api: ApiClient) -> None:
    assert agent_api.get("/statuses").status_code == 200
    before = _snapshot()
    response = agent_api.post("/statuses", {"kind": "task", "key": "blocked", "label": "Blocked",
                                            "category": "pending"})
    assert response.status_code == 403 and response.json()["detail"]
    new = api.get("/statuses", {"kind": "task"}).json()["items"][0]
    assert agent_api.patch(f"/statuses/{new['id']}", {"label": "Fresh"}).status_code == 403
    assert agent_api.delete(f"/statuses/{new['id']}").status_code == 403
    assert _snapshot() == before


def test_an_agent_manages_projects(agent_api: ApiClient) -> None:
    project = _created(agent_api.post("/projects", {"name": "Website"}))
    _created(agent_api.post("/folders", {"name": "Bugs", "project": project["id"]}))
    assert agent_api.delete(f"/projects/{project['id']}").status_code == 204


def test_project_history_is_recorded(api: ApiClient) -> None:
    project = _created(api.post("/projects", {"name": "Website"}))
    api.patch(f"/projects/{project['id']}", {"name": "Web site"})
    actions = list(AuditEvent.objects.filter(object_type="project").order_by("id").values_list("action", flat=True))
    assert actions == ["project.created", "project.updated"]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [("/projects", {"portfolio": "x"}, "portfolio"), ("/projects", {"organization": "acme"}, "organization"),
     ("/projects", {"portfolio": "9" * 25}, "portfolio"), ("/projects", {"organization": "9" * 25}, "organization"),
     ("/folders", {"project": "x"}, "project"), ("/folders", {"project": "9" * 25}, "project"),
     ("/portfolios", {"page_size": 501}, "page_size")],
)
def test_bad_list_parameters(api: ApiClient, path: str, params: dict[str, Any], field: str) -> None:
    response = api.get(path, params)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
