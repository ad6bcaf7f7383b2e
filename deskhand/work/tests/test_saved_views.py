"""Saved views (save_view, change_view, delete_view) and the views beside a list with their counts."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.work import workspace
from deskhand.work.inputs import AssigneeRef, ItemChanges, ItemDraft, ViewChanges, ViewDraft
from deskhand.work.models import Item, Kind, SavedView
from deskhand.work.services.items import change_item, submit_ticket
from deskhand.work.services.messages import add_message
from deskhand.work.services.workspace import MAX_VIEWS_PER_AGENT, change_view, delete_view, save_view

pytestmark = pytest.mark.django_db


def _ticket(title: str, **changes: Any) -> Item:
    item = submit_ticket(ItemDraft(title=title, requester_email="bob@acme.example"), actor=SYSTEM)
    if changes:
        item = change_item(item, changes=ItemChanges(**changes), actor=SYSTEM)
    return item


def _counts(agent: Agent) -> dict[str, int]:
    views = workspace.views_for(agent.pk, Kind.TICKET)
    return workspace.view_counts(views, Kind.TICKET, me=agent.pk)


def test_built_in_views_count_what_their_names_say(agent: Agent, admin: Agent) -> None:
    mine = _ticket("Mine", assignees=[AssigneeRef(kind="agent", id=agent.pk)])
    _ticket("Theirs", assignees=[AssigneeRef(kind="agent", id=admin.pk)])
    _ticket("Nobody's")
    _ticket("Waiting", status="pending")
    _ticket("Finished", status="done")
    add_message(mine, kind="customer", body="Any news?", actor=Actor.customer("bob@acme.example"))

    counts = _counts(agent)

    assert counts["my-open"] == 1 and counts["unassigned"] == 1
    assert counts["waiting"] == 1 and counts["breaching"] == 0
    assert counts["customer-updates"] == 1
    assert _counts(admin)["my-open"] == 1  # "me" is whoever looks


def test_recently_updated_by_customers_puts_the_latest_words_first(agent: Agent) -> None:
    older, newer = _ticket("Older"), _ticket("Newer")
    add_message(newer, kind="customer", body="First", actor=Actor.customer("bob@acme.example"))
    add_message(older, kind="customer", body="Later", actor=Actor.customer("bob@acme.example"))
    Item.objects.filter(pk=newer.pk).update(last_customer_message_at=timezone.now() - datetime.timedelta(days=8))

    view = next(v for v in workspace.views_for(agent.pk, Kind.TICKET) if v.key == "customer-updates")

    assert [item.title for item in workspace.view_items(view, Kind.TICKET, me=agent.pk)] == ["Older"]


def test_a_saved_view_keeps_filters_and_sort_and_counts(agent: Agent, agent_actor: Actor) -> None:
    _ticket("Urgent one", priority="urgent")
    _ticket("Calm one")

    view = save_view(ViewDraft(kind=Kind.TICKET, name="  Urgent  ", query={"priority": "urgent", "sort": "-updated_at",
                                                                          "search": ""}), actor=agent_actor)

    assert view.name == "Urgent" and view.query == {"priority": "urgent", "sort": "-updated_at"}
    assert _counts(agent)[f"saved-{view.pk}"] == 1


def test_personal_views_are_their_owners_and_shared_ones_everyones(agent: Agent, admin: Agent, agent_actor: Actor,
                                                                   admin_actor: Actor) -> None:
    save_view(ViewDraft(kind=Kind.TICKET, name="Mine only", query={"priority": "high"}), actor=agent_actor)
    save_view(ViewDraft(kind=Kind.TICKET, name="Team urgent", query={"priority": "urgent"}, shared=True),
              actor=agent_actor)

    names = [view.name for view in workspace.views_for(admin.pk, Kind.TICKET) if view.saved]

    assert names == ["Team urgent"]
    assert [v.name for v in workspace.views_for(agent.pk, Kind.TASK) if v.saved] == []


@pytest.mark.parametrize(("query", "field"), [
    ({"status": "nonsense"}, "status"),
    ({"priority": "sky-high"}, "priority"),
    ({"assignee": "x"}, "assignee"),
    ({"sort": "colour"}, "sort"),
    ({"shoe_size": "44"}, "query"),
    ({}, "query"),
    ({"search": "a\x00b"}, "search"),
])
def test_a_view_of_nonsense_is_refused_and_nothing_is_kept(agent_actor: Actor, query: dict[str, str],
                                                           field: str) -> None:
    with pytest.raises(Invalid) as refused:
        save_view(ViewDraft(kind=Kind.TICKET, name="Odd", query=query), actor=agent_actor)
    assert refused.value.field == field and not SavedView.objects.exists()


def test_names_are_required_bounded_and_once_per_agent(agent_actor: Actor, admin_actor: Actor) -> None:
    with pytest.raises(Invalid):
        save_view(ViewDraft(kind=Kind.TICKET, name="  ", query={"priority": "high"}), actor=agent_actor)
    with pytest.raises(Invalid):
        save_view(ViewDraft(kind=Kind.TICKET, name="x" * 81, query={"priority": "high"}), actor=agent_actor)
    save_view(ViewDraft(kind=Kind.TICKET, name="High", query={"priority": "high"}), actor=agent_actor)
    with pytest.raises(Conflict):
        save_view(ViewDraft(kind=Kind.TICKET, name="HIGH", query={"priority": "urgent"}), actor=agent_actor)
    save_view(ViewDraft(kind=Kind.TICKET, name="High", query={"priority": "high"}), actor=admin_actor)  # another agent
    assert SavedView.objects.count() == 2


def test_an_agent_keeps_a_bounded_number_of_views(agent: Agent, agent_actor: Actor) -> None:
    SavedView.objects.bulk_create(SavedView(kind=Kind.TICKET, name=f"V{n}", owner=agent, query={"priority": "high"})
                                  for n in range(MAX_VIEWS_PER_AGENT))
    with pytest.raises(Conflict):
        save_view(ViewDraft(kind=Kind.TICKET, name="One more", query={"priority": "high"}), actor=agent_actor)


def test_only_the_owner_or_an_admin_changes_or_deletes_a_view(agent_actor: Actor, admin_actor: Actor,
                                                              admin: Agent) -> None:
    view = save_view(ViewDraft(kind=Kind.TICKET, name="Shared", query={"priority": "high"}, shared=True),
                     actor=admin_actor)
    with pytest.raises(Forbidden):
        change_view(view, changes=ViewChanges(name="Mine now"), actor=agent_actor)
    with pytest.raises(Forbidden):
        delete_view(view, actor=agent_actor)

    changed = change_view(view, changes=ViewChanges(name="High priority", shared=False), actor=admin_actor)

    assert (changed.name, changed.shared) == ("High priority", False)
    delete_view(changed, actor=admin_actor)
    assert not SavedView.objects.exists()


def test_matching_view_finds_the_view_of_the_current_filters(agent: Agent) -> None:
    views = workspace.views_for(agent.pk, Kind.TICKET)
    found = workspace.matching_view(views, {"view": "list", "status": "category:new,open", "assignee": "me",
                                            "page": "2"})
    assert found is not None and found.key == "my-open"
    assert workspace.matching_view(views, {"assignee": "me"}) is None


def test_an_agent_shares_a_bounded_number_of_views(agent: Agent, agent_actor: Actor) -> None:
    from deskhand.work.services.workspace import MAX_SHARED_PER_AGENT

    SavedView.objects.bulk_create(SavedView(kind=Kind.TICKET, name=f"S{n}", owner=agent, shared=True,
                                            query={"priority": "high"}) for n in range(MAX_SHARED_PER_AGENT))
    with pytest.raises(Conflict):
        save_view(ViewDraft(kind=Kind.TICKET, name="One more", query={"priority": "high"}, shared=True),
                  actor=agent_actor)
    mine = save_view(ViewDraft(kind=Kind.TICKET, name="Mine", query={"priority": "high"}), actor=agent_actor)
    with pytest.raises(Conflict):
        change_view(mine, changes=ViewChanges(shared=True), actor=agent_actor)


def test_counts_are_kept_half_a_minute_and_shared_by_equal_filters(agent: Agent, admin: Agent,
                                                                   django_assert_num_queries: Any) -> None:
    _ticket("Nobody's")
    views = [v for v in workspace.views_for(agent.pk, Kind.TICKET) if v.key == "unassigned"]
    assert workspace.view_counts(views, Kind.TICKET, me=agent.pk) == {"unassigned": 1}
    _ticket("Another")
    with django_assert_num_queries(0):  # the admin's Unassigned is the same count
        assert workspace.view_counts(views, Kind.TICKET, me=admin.pk) == {"unassigned": 1}
