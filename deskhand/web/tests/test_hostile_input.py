"""Hostile numbers in every route, query string and form of the agents' app: never a 5xx.

Integers beyond 64 bits, Unicode digits (`²`, `١٢`), signs, exponents, spaces and empty values go
into every path id, every list filter and every form field the views read; too many fields and
multipart without a boundary are a 400 with a page, not a 500.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.models import Source
from deskhand.customers.services import create_customer, create_organization
from deskhand.web import urls as web_urls
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.projects import create_folder, create_portfolio, create_project
from deskhand.work.services.timesheets import log_time

HOSTILE = [str(2**64), "99999999999999999999999", "²", "١٢", "-1", "0", "1e3", " 1", "", "1_0", "9" * 400]
# Every name a view or form of the web app reads from the query string or the body.
PARAMS = [
    "action", "add_agent", "add_email", "agent", "assign_to", "assignee", "assignees", "billable", "category",
    "confirm", "customer_type", "date", "date_from", "date_to", "empty", "folder", "imap_port", "into", "item",
    "items", "max_mb", "minutes", "move_to", "offset", "organization", "page", "poll_seconds", "portfolio",
    "position", "priority", "project", "property", "remove", "requester", "sort", "status", "status_to", "step",
    "tree_page", "type", "view", "members",
]
# Values that mean "an id" to some parameter, with the hostile number in place of the id.
SHAPES = ["{}", "agent:{}", "team:{}", "project:{}", "folder:{}", "customer:{}", "{},{}"]


def _routes() -> list[str]:
    """Every route of the web app, its path parameters marked as {name}."""
    found = []
    for entry in web_urls.urlpatterns:
        assert isinstance(entry, URLPattern | URLResolver)
        pattern = str(entry.pattern)
        pattern = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)
        pattern = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
        pattern = pattern.lstrip("^").rstrip("$").replace("\\.", ".")
        pattern = re.sub(r"\{plural\}", "tickets", pattern)
        found.append("/" + pattern)
    return found


ROUTES = _routes()


@pytest.fixture
def admin_client(admin: Agent) -> Client:
    """Errors come back as responses (a 500 is counted, not raised), so one run lists them all."""
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    return client


@pytest.fixture
def world(admin: Agent) -> dict[str, int]:
    """One of each record, so that the views with a real id go on to read their parameters."""
    organization = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    customer = create_customer("bob@acme.example", source=Source.AGENT, actor=SYSTEM)
    portfolio = create_portfolio("Clients", actor=SYSTEM)
    project = create_project("Rollout", portfolio=portfolio.pk, actor=SYSTEM)
    folder = create_folder("Phase 1", project=project.pk, actor=SYSTEM)
    item: Item = submit_ticket(ItemDraft(title="Printer on fire", requester_email="bob@acme.example"), actor=SYSTEM)
    entry = log_time(item, minutes=30, actor=Actor.agent(admin))
    return {"organization": organization.pk, "customer": customer.pk, "portfolio": portfolio.pk,
            "project": project.pk, "folder": folder.pk, "item": item.pk, "entry": entry.pk}


def _real(route: str, world: dict[str, int]) -> str:
    ids = {"customer_id": world["customer"], "organization_id": world["organization"], "item_id": world["item"],
           "project_id": world["project"], "folder_id": world["folder"], "portfolio_id": world["portfolio"],
           "entry_id": world["entry"], "group": world["organization"]}
    return re.sub(r"\{(\w+)\}", lambda match: str(ids.get(match.group(1), 1)), route)


class Failures(list[str]):
    def check(self, response: Any, what: str) -> None:
        if response.status_code >= 500:
            self.append(f"{what}: {response.status_code}")


@pytest.fixture
def failures() -> Any:
    found = Failures()
    yield found
    assert not found, "\n".join(found[:40])


def _variants() -> list[dict[str, str]]:
    """Every parameter gets a hostile value in an id shape; rotated so that each parameter meets
    each value across the variants (a request per value and parameter would take minutes)."""
    return [{name: SHAPES[(index + turn) % len(SHAPES)].format(*[HOSTILE[(index + turn) % len(HOSTILE)]] * 2)
             for index, name in enumerate(PARAMS)} for turn in range(len(HOSTILE))]


def test_hostile_numbers_in_every_query_string_and_form(admin_client: Client, world: dict[str, int],
                                                         failures: Failures) -> None:
    for route in ROUTES:
        url = _real(route, world)
        for data in _variants():
            failures.check(admin_client.get(url, data), f"GET {url} {data}")
            failures.check(admin_client.post(url, data), f"POST {url} {data}")
        failures.check(admin_client.post(url, _variants()[0], headers={"HX-Request": "true"}), f"POST htmx {url}")


LIST_ROUTES = ["/tickets", "/tasks", "/customers", "/customers/groups/none", "/timesheets", "/projects",
               "/items/folder-options", "/admin/email", "/customers/export.csv", "/timesheets/export.csv"]
LIST_FILTERS = ["organization", "requester", "project", "folder", "assignee", "agent", "page", "offset",
                "tree_page", "item", "portfolio", "status"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_numbers_in_each_list_filter_alone(admin_client: Client, world: dict[str, int], value: str,
                                                  failures: Failures) -> None:
    for url in LIST_ROUTES:
        for name in LIST_FILTERS:
            failures.check(admin_client.get(url, {name: value}), f"GET {url} {name}={value!r}")
        failures.check(admin_client.get(url, {"assignee": f"team:{value}", "item": f"#{value}",
                                              "search": f"#{value}"}), f"GET {url} prefixed {value!r}")


@pytest.mark.parametrize("value", [str(2**64), "²", "١٢", "0"])
def test_hostile_numbers_in_every_path(admin_client: Client, world: dict[str, int], value: str,
                                       failures: Failures) -> None:
    for route in ROUTES:
        if "{" not in route:
            continue
        url = re.sub(r"\{\w+\}", value, route)
        for response in (admin_client.get(url), admin_client.post(url)):
            failures.check(response, url)


def test_a_huge_group_id_is_a_404(admin_client: Client) -> None:
    for group in [str(2**64), "²", "١٢", "99999999999999999999999"]:
        assert admin_client.get(f"/customers/groups/{group}").status_code == 404


def test_a_huge_id_in_a_path_is_a_404(admin_client: Client) -> None:
    for url in [f"/customers/{2**64}", f"/organizations/{2**64}", f"/projects/{2**64}", f"/timesheets/{2**64}",
                f"/tickets/{2**64}", f"/admin/email/mailboxes/{2**64}"]:
        assert admin_client.get(url).status_code == 404, url


def test_unicode_digits_in_filters_are_refused_not_read_as_numbers(admin_client: Client,
                                                                   world: dict[str, int]) -> None:
    arabic = "".join("٠١٢٣٤٥٦٧٨٩"[int(digit)] for digit in str(world["organization"]))
    response = admin_client.get("/tickets", {"organization": arabic})
    assert response.status_code == 422 or b"Printer on fire" not in response.content


def test_too_many_query_parameters_is_a_400(admin_client: Client) -> None:
    query = "&".join(f"p{number}=1" for number in range(5_000))
    for url in ["/tickets", "/customers", "/timesheets"]:
        response = admin_client.get(f"{url}?{query}")
        assert response.status_code == 400, url
        assert b"Bad request" in response.content and b"TooManyFields" not in response.content


def test_too_many_form_fields_is_a_400(admin_client: Client) -> None:
    body = "&".join(f"p{number}=1" for number in range(5_000))
    response = admin_client.post("/customers/new", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_multipart_without_a_boundary_is_a_400(admin_client: Client) -> None:
    for url in ["/customers/import", "/customers/new", "/tickets/new"]:
        response = admin_client.post(url, b"--x\r\n", content_type="multipart/form-data")
        assert response.status_code == 400, url
        assert b"Bad request" in response.content


@pytest.mark.parametrize("port", ["١٢٣", "²", str(2**64), "9" * 400])
def test_a_mailbox_port_takes_ascii_digits_only(admin_client: Client, port: str) -> None:
    from deskhand.mail.models import Mailbox

    response = admin_client.post("/admin/email/mailboxes", {
        "address": "help@acme.example", "name": "Help", "imap_host": "imap.acme.example", "imap_port": port,
        "imap_security": "ssl", "imap_username": "help", "imap_password": "x", "imap_folder": "INBOX",
        "poll_seconds": "60"})
    assert response.status_code == 422 and not Mailbox.objects.exists()
