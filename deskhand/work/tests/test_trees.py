from __future__ import annotations

from deskhand.core.actors import Actor
from deskhand.customers.models import Source
from deskhand.customers.services import create_organization
from deskhand.work.inputs import ItemChanges, ItemDraft
from deskhand.work.queries import customer_tree, portfolio_tree
from deskhand.work.services.items import change_item, submit_ticket
from deskhand.work.services.projects import create_folder, create_portfolio, create_project


def test_by_portfolio_counts_open_items_per_project_and_folder(agent_actor: Actor) -> None:
    clients = create_portfolio("Clients", actor=agent_actor)
    rollout = create_project("Rollout", portfolio=clients.pk, actor=agent_actor)
    docs = create_folder("Docs", project=rollout.pk, actor=agent_actor)
    loose = create_project("Loose", actor=agent_actor)
    in_folder = submit_ticket(ItemDraft(title="A", requester_email="a@acme.example", project=rollout.pk, folder=docs.pk), actor=agent_actor)
    submit_ticket(ItemDraft(title="B", requester_email="b@acme.example", project=rollout.pk), actor=agent_actor)
    done = submit_ticket(ItemDraft(title="C", requester_email="c@acme.example", project=rollout.pk), actor=agent_actor)
    change_item(done, changes=ItemChanges(status="done"), actor=agent_actor)
    submit_ticket(ItemDraft(title="D", requester_email="d@acme.example"), actor=agent_actor)
    tree, unprojected = portfolio_tree("ticket")
    assert [node.portfolio for node in tree] == [clients, None]
    [rollout_node] = tree[0].projects
    assert (rollout_node.count, rollout_node.unfiled, rollout_node.folders) == (2, 1, [(docs, 1)])
    assert [p.project for p in tree[1].projects] == [loose] and unprojected == 1
    assert in_folder.folder == docs
    flat, _ = portfolio_tree("ticket", portfolios_enabled=False)
    assert [node.portfolio for node in flat] == [None] and len(flat[0].projects) == 2
    tasks, none = portfolio_tree("task")
    assert none == 0 and tasks[0].projects[0].count == 0


def test_by_customer_lists_organizations_with_their_projects_and_loose_tickets(agent_actor: Actor) -> None:
    acme_ticket = submit_ticket(ItemDraft(title="A", requester_email="a@acme.example"), actor=agent_actor)
    acme = acme_ticket.organization
    project = create_project("Acme support", organization=acme.pk, actor=agent_actor)
    submit_ticket(ItemDraft(title="B", requester_email="b@acme.example", project=project.pk), actor=agent_actor)
    quiet = create_organization("Quiet Ltd", source=Source.AGENT, actor=agent_actor)
    create_project("Quiet onboarding", organization=quiet.pk, actor=agent_actor)
    create_organization("Nothing Inc", source=Source.AGENT, actor=agent_actor)
    submit_ticket(ItemDraft(title="C", requester_email="c@gmail.com"), actor=agent_actor)
    nodes, total = customer_tree("ticket")
    assert total == 2 and [node.organization for node in nodes] == [acme, quiet]
    assert (nodes[0].unprojected, nodes[0].count) == (1, 2)
    assert [(p.project.name, p.count) for p in nodes[0].projects] == [("Acme support", 1)]
    assert [(p.project.name, p.count) for p in nodes[1].projects] == [("Quiet onboarding", 0)]
