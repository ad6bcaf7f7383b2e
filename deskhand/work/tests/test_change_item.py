from __future__ import annotations

import pytest

from deskhand.agents.models import Agent, Team
from deskhand.core.actors import Actor
from deskhand.core.errors import Invalid
from deskhand.customers.models import Customer, Source
from deskhand.customers.services import create_customer
from deskhand.work.inputs import AssigneeRef, BulkChanges, FollowerRef, ItemChanges, ItemDraft
from deskhand.work.models import Assignee, Follower, Item
from deskhand.work.queries import item_events
from deskhand.work.services.items import bulk_change, change_item, create_task, submit_ticket
from deskhand.work.services.projects import create_folder, create_project


def test_a_change_records_old_and_new(ticket: Item, agent_actor: Actor, agent: Agent) -> None:
    change_item(ticket, changes=ItemChanges(status="open", priority="high", assignees=[AssigneeRef(kind="agent", id=agent.pk)]), actor=agent_actor)
    ticket.refresh_from_db()
    assert ticket.status.key == "open" and ticket.priority_key == "high"
    event = item_events(ticket).last()
    assert event.action == "ticket.updated" and event.actor_label == "ana@deskhand.test"
    assert event.changes["status"] == {"old": "new", "new": "open"}
    assert event.changes["priority"] == {"old": "normal", "new": "high"}
    assert event.changes["assignees"] == {"old": [], "new": [f"agent:{agent.pk}"]}


def test_no_change_writes_no_event(ticket: Item, agent_actor: Actor) -> None:
    change_item(ticket, changes=ItemChanges(status="new"), actor=agent_actor)
    assert item_events(ticket).count() == 1


def test_moving_between_projects_and_folders(ticket: Item, agent_actor: Actor) -> None:
    alpha = create_project("Alpha", actor=agent_actor)
    beta = create_project("Beta", actor=agent_actor)
    alpha_docs = create_folder("Docs", project=alpha.pk, actor=agent_actor)
    beta_docs = create_folder("Docs", project=beta.pk, actor=agent_actor)
    change_item(ticket, changes=ItemChanges(project=alpha.pk, folder=alpha_docs.pk), actor=agent_actor)
    with pytest.raises(Invalid) as error:
        change_item(ticket, changes=ItemChanges(folder=beta_docs.pk), actor=agent_actor)
    assert error.value.field == "folder"
    # Changing the project alone leaves the old project's folder behind.
    change_item(ticket, changes=ItemChanges(project=beta.pk), actor=agent_actor)
    ticket.refresh_from_db()
    assert (ticket.project, ticket.folder) == (beta, None)
    change_item(ticket, changes=ItemChanges(folder=beta_docs.pk), actor=agent_actor)
    change_item(ticket, changes=ItemChanges(project=None), actor=agent_actor)
    ticket.refresh_from_db()
    assert (ticket.project, ticket.folder) == (None, None)


def test_a_failed_change_changes_nothing(ticket: Item, agent_actor: Actor) -> None:
    with pytest.raises(Invalid) as error:
        change_item(ticket, changes=ItemChanges(status="open", priority="whenever"), actor=agent_actor)
    assert error.value.field == "priority"
    ticket.refresh_from_db()
    assert ticket.status.key == "new" and item_events(ticket).count() == 1


@pytest.mark.parametrize(("changes", "field"), [
    (ItemChanges(title=""), "title"),
    (ItemChanges(title="\x00"), "title"),
    (ItemChanges(status="done-ish"), "status"),
    (ItemChanges(priority="critical"), "priority"),
    (ItemChanges(project=999_999), "project"),
    (ItemChanges(project=2**64), "project"),
    (ItemChanges(folder=999_999), "folder"),
    (ItemChanges(assignees=[AssigneeRef(kind="agent", id=999_999)]), "assignees"),
    (ItemChanges(assignees=[AssigneeRef(kind="team", id=999_999)]), "assignees"),
    (ItemChanges(followers=[FollowerRef(kind="customer", email="nope")]), "followers"),
    (ItemChanges(followers=[FollowerRef(kind="agent")]), "followers"),
    (ItemChanges(requester=None), "requester"),
    (ItemChanges(requester=999_999), "requester"),
    (ItemChanges(custom_fields={"nope": 1}), "custom_fields.nope"),
])
def test_bad_changes_name_the_field(ticket: Item, agent_actor: Actor, changes: ItemChanges, field: str) -> None:
    with pytest.raises(Invalid) as error:
        change_item(ticket, changes=changes, actor=agent_actor)
    assert error.value.field == field


def test_a_ticket_status_is_not_a_task_status(agent_actor: Actor, admin_actor: Actor) -> None:
    from deskhand.work.services.statuses import create_status

    create_status(kind="task", key="blocked", label="Blocked", category="pending", actor=admin_actor)
    ticket = submit_ticket(ItemDraft(title="Hi", requester_email="a@b.example"), actor=agent_actor)
    with pytest.raises(Invalid):
        change_item(ticket, changes=ItemChanges(status="blocked"), actor=agent_actor)
    task = create_task(ItemDraft(title="Hi"), actor=agent_actor)
    assert change_item(task, changes=ItemChanges(status="blocked"), actor=agent_actor).status.key == "blocked"


def test_followers_are_replaced_and_created_by_the_customer_rules(ticket: Item, agent_actor: Actor,
                                                                  agent: Agent) -> None:
    change_item(ticket, changes=ItemChanges(followers=[FollowerRef(kind="customer", id=ticket.requester_id), FollowerRef(kind="customer", email="carol@acme.example"), FollowerRef(kind="agent", id=agent.pk)]), actor=agent_actor)
    carol = Customer.objects.get(email="carol@acme.example")
    assert carol.organization == ticket.organization
    assert set(Follower.objects.filter(item=ticket).values_list("customer_id", "agent_id")) == {
        (ticket.requester_id, None), (carol.pk, None), (None, agent.pk)}
    change_item(ticket, changes=ItemChanges(followers=[FollowerRef(kind="agent", id=agent.pk)]), actor=agent_actor)
    # The requester always follows their own request.
    assert set(Follower.objects.filter(item=ticket).values_list("customer_id", "agent_id")) == {
        (ticket.requester_id, None), (None, agent.pk)}


def test_a_corrected_requester_moves_the_ticket_to_their_organization(ticket: Item, agent_actor: Actor) -> None:
    other = create_customer("dan@globex.example", source=Source.AGENT, actor=agent_actor)
    change_item(ticket, changes=ItemChanges(requester=other.pk), actor=agent_actor)
    ticket.refresh_from_db()
    assert ticket.requester == other and ticket.organization == other.organization
    assert item_events(ticket).last().changes["organization"] == {"old": "acme.example", "new": "globex.example"}


def test_bulk_change_is_all_or_nothing(agent_actor: Actor, agent: Agent, team: Team) -> None:
    first = submit_ticket(ItemDraft(title="One", requester_email="a@acme.example"), actor=agent_actor)
    second = submit_ticket(ItemDraft(title="Two", requester_email="b@acme.example"), actor=agent_actor)
    assert bulk_change([first, second], changes=BulkChanges(assignees=[AssigneeRef(kind="team", id=team.pk)], status="open"),
                       actor=agent_actor) == 2
    assert Assignee.objects.filter(team=team).count() == 2
    task = create_task(ItemDraft(title="Three"), actor=agent_actor)
    from deskhand.work.services.statuses import create_status
    admin_actor = Actor(agent_actor.kind, label="admin", agent_id=agent_actor.agent_id, is_admin=True)
    create_status(kind="ticket", key="waiting", label="Waiting", category="pending", actor=admin_actor)
    with pytest.raises(Invalid):
        bulk_change([first, task], changes=BulkChanges(status="waiting"), actor=agent_actor)
    first.refresh_from_db()
    assert first.status.key == "open"
    with pytest.raises(Invalid) as error:
        bulk_change([first], changes=BulkChanges(), actor=agent_actor)
    assert error.value.field == "changes"
    with pytest.raises(Invalid):
        bulk_change([], changes=BulkChanges(status="open"), actor=agent_actor)


def test_an_empty_change_leaves_updated_at_alone(ticket: Item, agent_actor: Actor) -> None:
    before = Item.objects.get(pk=ticket.pk).updated_at
    change_item(ticket, changes=ItemChanges(status="new", description=ticket.description, assignees=[]),
                actor=agent_actor)
    assert Item.objects.get(pk=ticket.pk).updated_at == before and item_events(ticket).count() == 1
