from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from deskhand.agents.models import Agent, Team
from deskhand.core.actors import Actor
from deskhand.core.errors import Invalid, NotFound
from deskhand.work.inputs import AssigneeRef, ItemChanges, ItemDraft
from deskhand.work.models import Assignee, Item
from deskhand.work.queries import ItemFilters, get_item, item_count, item_list
from deskhand.work.services.items import change_item, create_task, submit_ticket
from deskhand.work.services.projects import create_folder, create_project


@pytest.fixture
def board(agent_actor: Actor, agent: Agent, team: Team) -> dict[str, Any]:
    project = create_project("Rollout", actor=agent_actor)
    folder = create_folder("Docs", project=project.pk, actor=agent_actor)
    printer = submit_ticket(ItemDraft(title="Printer jam", requester_email="bob@acme.example", priority="high", assignees=[AssigneeRef(kind="agent", id=agent.pk)], project=project.pk, folder=folder.pk), actor=agent_actor)
    vpn = submit_ticket(ItemDraft(title="VPN drops", requester_email="mia@gmail.com"), actor=agent_actor)
    mail = submit_ticket(ItemDraft(title="Mail quota", requester_email="carl@acme.example", assignees=[AssigneeRef(kind="team", id=team.pk)]), actor=agent_actor)
    change_item(vpn, changes=ItemChanges(status="open"), actor=agent_actor)
    change_item(mail, changes=ItemChanges(status="done"), actor=agent_actor)
    task = create_task(ItemDraft(title="Printer inventory"), actor=agent_actor)
    return {"printer": printer, "vpn": vpn, "mail": mail, "task": task, "project": project, "folder": folder,
            "agent": agent, "team": team}


def titles(**filters: str) -> list[str]:
    return [item.title for item in item_list("ticket", ItemFilters(**filters))]


def test_each_filter(board: dict[str, Any]) -> None:
    assert titles() == ["Mail quota", "VPN drops", "Printer jam"]
    assert titles(status="open") == ["VPN drops"]
    assert titles(status="new,done") == ["Mail quota", "Printer jam"]
    assert titles(status="category:done") == ["Mail quota"]
    assert titles(priority="high") == ["Printer jam"]
    assert titles(assignee=str(board["agent"].pk)) == ["Printer jam"]
    assert titles(assignee=f"team:{board['team'].pk}") == ["Mail quota"]
    assert titles(assignee="none") == ["VPN drops"]
    assert titles(organization=str(board["printer"].organization_id)) == ["Mail quota", "Printer jam"]
    assert titles(organization="none") == ["VPN drops"]
    assert titles(requester=str(board["vpn"].requester_id)) == ["VPN drops"]
    assert titles(project=str(board["project"].pk)) == ["Printer jam"]
    assert titles(project="none") == ["Mail quota", "VPN drops"]
    assert titles(folder=str(board["folder"].pk)) == ["Printer jam"]
    assert titles(status="new", organization=str(board["printer"].organization_id)) == ["Printer jam"]


def test_search_by_title_reference_and_requester_email(board: dict[str, Any]) -> None:
    assert titles(search="printer") == ["Printer jam"]
    assert titles(search=board["vpn"].reference) == ["VPN drops"]
    assert titles(search=str(board["vpn"].pk)) == ["VPN drops"]
    assert titles(search="carl@acme") == ["Mail quota"]
    assert titles(search="@acme.example") == ["Mail quota", "Printer jam"]
    assert titles(search="nothing like it") == []


def test_sorting(board: dict[str, Any]) -> None:
    by_priority = [item.title for item in item_list("ticket", sort="-priority")]
    assert by_priority[0] == "Printer jam"
    assert [item.title for item in item_list("ticket", sort="title")] == ["Mail quota", "Printer jam", "VPN drops"]
    with pytest.raises(Invalid) as error:
        item_list("ticket", sort="requester__password")
    assert error.value.field == "sort"


@pytest.mark.parametrize(("filters", "field"), [
    ({"status": "archived"}, "status"),
    ({"status": "category:closed"}, "status"),
    ({"priority": "critical"}, "priority"),
    ({"assignee": "ana"}, "assignee"),
    ({"organization": "acme"}, "organization"),
    ({"project": "-1"}, "project"),
])
def test_bad_filters_name_the_field(board: dict[str, Any], filters: dict, field: str) -> None:
    with pytest.raises(Invalid) as error:
        list(item_list("ticket", ItemFilters(**filters)))
    assert error.value.field == field


def test_get_item_keeps_kinds_apart(board: dict[str, Any]) -> None:
    assert get_item(board["task"].pk, kind="task") == board["task"]
    with pytest.raises(NotFound):
        get_item(board["task"].pk, kind="ticket")
    with pytest.raises(NotFound):
        get_item(10**9)


def test_the_list_reads_in_constant_queries(board: dict[str, Any], agent_actor: Actor,
                                            django_assert_num_queries: Any) -> None:
    def read() -> None:
        for item in item_list("ticket"):
            _ = (item.status.label, item.requester and item.requester.email, item.organization,
                 item.project, item.folder, [a.agent or a.team for a in item.assignee_rows],
                 [f.customer or f.agent for f in item.follower_rows])

    with django_assert_num_queries(3):
        read()
    for n in range(10):
        submit_ticket(ItemDraft(title=f"More {n}", requester_email=f"p{n}@n{n}.example"), actor=agent_actor)
    with django_assert_num_queries(3):
        read()
    assert Item.objects.filter(kind="ticket").count() == 13


def test_title_search_follows_renames_and_ignores_case(board: dict[str, Any], agent_actor: Actor) -> None:
    change_item(board["vpn"], changes=ItemChanges(title="Ünïcode VPN Überfall"), actor=agent_actor)
    assert titles(search="vpn drops") == []
    assert titles(search="vpn") == ["Ünïcode VPN Überfall"]
    assert titles(search="vPn üBER") == ["Ünïcode VPN Überfall"]
    assert titles(search='"quoted"') == []


@pytest.mark.parametrize("term", ["j", "ja", "100%", "a_b", "%", "_", "\\\\", "% f", 'b "'])
def test_short_and_wildcard_terms_search_literally(board: dict[str, Any], agent_actor: Actor, term: str) -> None:
    submit_ticket(ItemDraft(title="Disk 100% full a_b \\\\", requester_email="x@acme.example"), actor=agent_actor)
    found = titles(search=term)
    expected = [title for title in ["Disk 100% full a_b \\\\", "Mail quota", "VPN drops", "Printer jam"]
                if term.lower() in title.lower()]
    assert found == expected


def test_deleted_items_leave_the_search_index(board: dict[str, Any]) -> None:
    board["printer"].delete()
    assert titles(search="printer") == []


def test_huge_ids_in_filters_are_invalid(board: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as error:
        list(item_list("ticket", ItemFilters(project=str(2**64))))
    assert error.value.field == "project"


def test_combined_filters(board: dict[str, Any], agent_actor: Actor) -> None:
    agent = board["agent"]
    urgent = submit_ticket(ItemDraft(title="Server down", requester_email="dan@acme.example", priority="urgent", assignees=[AssigneeRef(kind="agent", id=agent.pk)]), actor=agent_actor)
    change_item(urgent, changes=ItemChanges(status="pending"), actor=agent_actor)
    change_item(board["vpn"], changes=ItemChanges(priority="high"), actor=agent_actor)
    assert titles(status="open", priority="high") == ["VPN drops"]
    assert titles(status="new", assignee=str(agent.pk)) == ["Printer jam"]
    assert titles(status="pending", priority="urgent", assignee=str(agent.pk)) == ["Server down"]
    assert titles(status="pending", priority="high", assignee=str(agent.pk)) == []
    assert titles(assignee=str(agent.pk), search="server") == ["Server down"]
    assert titles(assignee=str(agent.pk), search="jam") == ["Printer jam"]
    assert titles(assignee=f"team:{board['team'].pk}", search="printer") == []


def test_assignee_rows_carry_the_items_kind(board: dict[str, Any], agent_actor: Actor) -> None:
    agent, team = board["agent"], board["team"]
    change_item(board["task"], changes=ItemChanges(assignees=[AssigneeRef(kind="agent", id=agent.pk)]), actor=agent_actor)
    kinds = {(row.item.kind, row.kind) for row in Assignee.objects.select_related("item")}
    assert kinds == {("ticket", "ticket"), ("task", "task")}
    with pytest.raises(IntegrityError), transaction.atomic():  # a row without it would drop out of counts
        Assignee.objects.create(item=board["vpn"], agent=agent)
    assert [item.title for item in item_list("task", ItemFilters(assignee=str(agent.pk)))] == ["Printer inventory"]
    assert titles(assignee=f"team:{team.pk}") == ["Mail quota"]


@pytest.mark.parametrize("assignee", ["agent", "team", "both agents", "none"])
def test_item_count_agrees_with_the_list(board: dict[str, Any], agent_actor: Actor, admin: Agent,
                                         assignee: str) -> None:
    agent, team = board["agent"], board["team"]
    change_item(board["task"], changes=ItemChanges(assignees=[AssigneeRef(kind="agent", id=agent.pk)]), actor=agent_actor)
    change_item(board["vpn"], changes=ItemChanges(assignees=[AssigneeRef(kind="agent", id=agent.pk), AssigneeRef(kind="agent", id=admin.pk)]), actor=agent_actor)
    value = {"agent": str(agent.pk), "team": f"team:{team.pk}", "both agents": f"{agent.pk},{admin.pk}",
             "none": "none"}[assignee]
    for filters in (ItemFilters(assignee=value), ItemFilters(assignee=value, status="new")):
        for kind in ("ticket", "task"):
            items = item_list(kind, filters)
            assert item_count(kind, filters, items) == len(list(items)), (kind, filters)


def test_an_agents_tickets_are_counted_from_the_assignee_index(board: dict[str, Any]) -> None:
    filters = ItemFilters(assignee=str(board["agent"].pk))
    with CaptureQueriesContext(connection) as captured:
        assert item_count("ticket", filters, item_list("ticket", filters)) == 1
    assert len(captured) == 1 and "work_item" not in captured[0]["sql"]


@pytest.mark.parametrize("sort", ["-id", "id", "title", "-priority", "status", "-updated_at"])
def test_a_page_in_two_steps_is_the_lists_own_slice(agent: Agent, sort: str) -> None:
    from deskhand.work.queries import item_page

    actor = Actor.agent(agent)
    for n in range(7):
        item = submit_ticket(ItemDraft(title=f"T{n % 3}", requester_email=f"c{n}@acme.example",
                                       priority=("low", "high", "urgent")[n % 3]), actor=actor)
        if n % 2:
            change_item(item, changes=ItemChanges(status="open", assignees=[AssigneeRef("agent", agent.pk)]),
                        actor=actor)
    for filters in (ItemFilters(), ItemFilters(assignee=str(agent.pk)), ItemFilters(status="new")):
        whole = [item.pk for item in item_list("ticket", filters, sort=sort)]
        assert [item.pk for item in item_page("ticket", filters, sort=sort, offset=2, limit=3)] == whole[2:5]
        page = item_page("ticket", filters, sort=sort, limit=50)
        assert [item.pk for item in page] == whole and all(item.assignee_rows is not None for item in page)
    with pytest.raises(Invalid):
        item_page("ticket", ItemFilters(), sort="colour")
