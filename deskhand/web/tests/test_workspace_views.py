"""The workspace around the lists: views in the sidebar with counts, saving and managing views,
attention marks on rows, who else is on an item page, and the search box."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.services import create_organization
from deskhand.work.inputs import AssigneeRef, ItemDraft, ViewDraft
from deskhand.work.models import Item, ItemPresence, Kind, SavedView
from deskhand.work.services.items import create_task, submit_ticket
from deskhand.work.services.messages import add_message
from deskhand.work.services.workspace import heartbeat, save_view

pytestmark = pytest.mark.django_db


def _ticket(title: str = "Printer on fire", **kwargs: Any) -> Item:
    return submit_ticket(ItemDraft(title=title, requester_email="bob@acme.example", **kwargs), actor=SYSTEM)


def test_the_ticket_pages_show_the_views_with_counts_after_the_page(agent_client: Client, agent: Agent) -> None:
    _ticket("Mine", assignees=[AssigneeRef(kind="agent", id=agent.pk)])
    _ticket("Nobody's")

    page = agent_client.get("/tickets").content.decode()
    counts = agent_client.get("/tickets/views/counts", HTTP_HX_REQUEST="true").content.decode()

    assert 'aria-label="Tickets views"' in page and "My open" in page and "Breaching soon" in page
    assert 'hx-get="/tickets/views/counts"' in page
    assert 'id="view-count-my-open" hx-swap-oob="true" aria-label="1 My open">1<' in counts
    assert 'id="view-count-unassigned" hx-swap-oob="true" aria-label="1 Unassigned">1<' in counts


def test_opening_a_view_titles_the_list_after_it(agent_client: Client, agent: Agent) -> None:
    _ticket("Mine", assignees=[AssigneeRef(kind="agent", id=agent.pk)])
    _ticket("Nobody's")
    page = agent_client.get("/tickets?assignee=me&status=category%3Anew%2Copen").content.decode()
    assert '<h1 id="list-title">My open</h1>' in page and "Mine" in page and "Nobody&#x27;s" not in page


def test_save_the_current_filters_as_a_view(agent_client: Client, agent: Agent) -> None:
    response = agent_client.post("/tickets/views", {"name": "Urgent things", "shared": "on",
                                                    "query": "priority=urgent&sort=-updated_at&view=list"})
    view = SavedView.objects.get()
    assert response.status_code == 302 and response["Location"] == "/tickets?priority=urgent&sort=-updated_at"
    assert (view.name, view.shared, view.owner_id, view.query) == (
        "Urgent things", True, agent.pk, {"priority": "urgent", "sort": "-updated_at"})
    page = agent_client.get(response["Location"]).content.decode()
    assert "Urgent things" in page and "Shared view" in page


def test_a_bad_view_is_not_saved_and_says_why(agent_client: Client) -> None:
    response = agent_client.post("/tickets/views", {"name": "Odd", "query": "status=nonsense"}, follow=True)
    assert "The view was not saved" in response.content.decode() and not SavedView.objects.exists()
    response = agent_client.post("/tickets/views", {"name": "", "query": "priority=high"}, follow=True)
    assert "The view was not saved" in response.content.decode() and not SavedView.objects.exists()


def test_manage_views_rename_share_and_delete(agent_client: Client, agent: Agent, admin: Agent) -> None:
    view = save_view(ViewDraft(kind=Kind.TICKET, name="High", query={"priority": "high"}), actor=Actor.agent(agent))
    theirs = save_view(ViewDraft(kind=Kind.TICKET, name="Admin's", query={"priority": "low"}, shared=True),
                       actor=Actor.agent(admin))
    page = agent_client.get("/tickets/views").content.decode()
    assert 'value="High"' in page and "Admin&#x27;s" in page and f"/tickets/views/{theirs.pk}/delete" not in page

    assert agent_client.post(f"/tickets/views/{view.pk}", {"name": "High priority", "shared": "on"}).status_code == 302
    view.refresh_from_db()
    assert (view.name, view.shared) == ("High priority", True)
    assert agent_client.post(f"/tickets/views/{theirs.pk}", {"name": "Taken"}).status_code == 403
    assert agent_client.post(f"/tickets/views/{view.pk}/delete").status_code == 302
    assert list(SavedView.objects.all()) == [theirs]


def test_views_of_others_are_not_found(agent_client: Client, admin: Agent) -> None:
    private = save_view(ViewDraft(kind=Kind.TICKET, name="Private", query={"priority": "high"}),
                        actor=Actor.agent(admin))
    assert agent_client.post(f"/tickets/views/{private.pk}", {"name": "Mine"}).status_code == 404
    assert agent_client.post(f"/tickets/views/{private.pk}/delete").status_code == 404
    assert agent_client.post("/tickets/views/99999999999999999999/delete").status_code == 404
    assert "Private" not in agent_client.get("/tickets").content.decode()


def test_rows_mark_unread_customer_words_the_last_line_and_who_is_on_it(agent_client: Client, agent: Agent,
                                                                       admin: Agent) -> None:
    item = _ticket()
    add_message(item, kind="customer", body="Still smoking <b>badly</b>", actor=Actor.customer("bob@acme.example"))
    heartbeat(item, agent_id=admin.pk, typing=True)

    page = agent_client.get("/tickets").content.decode()

    assert 'class="item-row unread"' in page and "New customer message" in page
    assert "Still smoking &lt;b&gt;badly&lt;/b&gt;" in page
    assert f"{admin.display_name} on it" in page

    agent_client.get(f"/tickets/{item.pk}")
    assert 'class="item-row unread"' not in agent_client.get("/tickets").content.decode()


def test_a_row_shows_its_columns_and_a_longer_page_costs_no_more_queries(
        agent_client: Client, agent: Agent, admin: Agent, django_assert_max_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from deskhand.sla.inputs import PolicyInput, TargetInput
    from deskhand.sla.services import apply_sla, clock_start, create_policy
    from deskhand.work.services.projects import create_folder, create_portfolio, create_project

    policy = create_policy(PolicyInput("Gold", [TargetInput("normal", 60, 480)]), actor=SYSTEM)
    project = create_project("Rollout", portfolio=create_portfolio("Clients", actor=SYSTEM).pk, actor=SYSTEM)
    folder = create_folder("Phase 1", project=project.pk, actor=SYSTEM)

    def add(count: int) -> None:
        items = [_ticket(f"Row {n} <i>", assignees=[AssigneeRef(kind="agent", id=admin.pk)], project=project.pk,
                         folder=folder.pk) for n in range(count)]
        apply_sla([clock_start(item) for item in items], policy=policy, actor=SYSTEM)
        for item in items:
            add_message(item, kind="customer", body="Any news?", actor=Actor.customer("bob@acme.example"))

    add(2)
    with CaptureQueriesContext(connection) as few:
        page = agent_client.get("/tickets?view=list").content.decode()
    row = page[page.index('<tr class="item-row'):page.index("</tr>", page.index('<tr class="item-row'))]
    assert "Row 1 &lt;i&gt;" in row and "bob@acme.example" in row and "acme.example" in row
    assert admin.display_name in row and "Rollout" in row and "/ Phase 1" in row
    assert "sla-badge" in row and "left" in row and "Any news?" in row and "unread" in row
    add(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert agent_client.get("/tickets?view=list").content.decode().count('<tr class="item-row') == 8


def test_the_item_page_warns_of_another_agent_and_of_a_message_since_it_opened(
        agent_client: Client, agent: Agent, admin: Agent) -> None:
    item = _ticket()
    page = agent_client.get(f"/tickets/{item.pk}").content.decode()
    assert 'id="presence-beat"' in page and "is also viewing" not in page

    heartbeat(item, agent_id=admin.pk, typing=True)
    add_message(item, kind="reply", body="Done already.", actor=Actor.agent(admin))
    answer = agent_client.post(f"/tickets/{item.pk}/presence", {"typing": "0", "last": "0"},
                               HTTP_HX_REQUEST="true").content.decode()

    assert f"<strong>{admin.display_name}</strong> is typing a reply to this ticket." in answer
    assert f"a reply by {admin.display_name}" in answer and "Reload to read it" in answer
    assert ItemPresence.objects.filter(agent=agent, item=item).exists()

    assert agent_client.post(f"/tickets/{item.pk}/presence/leave").status_code == 204
    assert not ItemPresence.objects.filter(agent=agent, item=item).exists()


@pytest.mark.parametrize("last", ["", "abc", "-5", "9" * 40])
def test_presence_takes_any_last_value_without_error(agent_client: Client, last: str) -> None:
    item = _ticket()
    assert agent_client.post(f"/tickets/{item.pk}/presence", {"last": last, "typing": "yes"}).status_code == 200


def test_presence_needs_a_signed_in_agent_and_a_real_item(client: Client, agent_client: Client) -> None:
    item = _ticket()
    assert client.post(f"/tickets/{item.pk}/presence").status_code == 302
    assert agent_client.post(f"/tasks/{item.pk}/presence").status_code == 404
    assert agent_client.get(f"/tickets/{item.pk}/presence").status_code == 405


def test_search_finds_tickets_tasks_customers_and_organizations_at_once(agent_client: Client) -> None:
    create_organization("Acme Corp", domains=["acme.example"], apply_to_existing=True, actor=SYSTEM)
    _ticket("Acme printer")
    create_task(ItemDraft(title="Order Acme toner"), actor=SYSTEM)

    page = agent_client.get("/search", {"q": "acme"}).content.decode()

    for heading in ("Tickets", "Tasks", "Customers", "Organizations"):
        assert f">{heading}</h2>" in page
    assert "Acme printer" in page and "Order Acme toner" in page and "bob@acme.example" in page and "Acme Corp" in page


def test_search_hash_number_jumps_to_the_item(agent_client: Client) -> None:
    task = create_task(ItemDraft(title="Order toner"), actor=SYSTEM)
    response = agent_client.get("/search", {"q": f"#{task.pk}"})
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}"
    live = agent_client.get("/search", {"q": f"#{task.pk}"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Go to" in live and f'href="/tasks/{task.pk}"' in live and "<html" not in live


@pytest.mark.parametrize("q", ["#99999999", "#" + "9" * 30, "\x00", "%", "'; drop table", "a" * 5000, ""])
def test_search_answers_anything_calmly(agent_client: Client, q: str) -> None:
    response = agent_client.get("/search", {"q": q})
    assert response.status_code == 200
    if q.strip("\x00"):
        assert "Nothing matches" in response.content.decode() or q == "%"
