from __future__ import annotations

import pytest

from deskhand.config.services import update_settings
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Invalid
from deskhand.customers.models import Source
from deskhand.customers.services import create_organization
from deskhand.work.inputs import ItemChanges, ProjectChanges
from deskhand.work.models import Folder, Item, Portfolio, Project
from deskhand.work.services.items import change_item
from deskhand.work.services.projects import (
    create_folder,
    create_portfolio,
    create_project,
    delete_folder,
    delete_portfolio,
    delete_project,
    rename_folder,
    update_project,
)


def test_a_project_can_sit_in_a_portfolio_and_belong_to_an_organization(agent_actor: Actor) -> None:
    clients = create_portfolio("Clients", actor=agent_actor)
    acme = create_organization("Acme", source=Source.AGENT, actor=agent_actor)
    project = create_project("Acme support", portfolio=clients.pk, organization=acme.pk, actor=agent_actor)
    assert (project.portfolio, project.organization) == (clients, acme)


def test_names_are_unique_case_insensitively(agent_actor: Actor) -> None:
    create_portfolio("Clients", actor=agent_actor)
    with pytest.raises(Conflict):
        create_portfolio("CLIENTS", actor=agent_actor)
    project = create_project("Rollout", actor=agent_actor)
    with pytest.raises(Conflict) as error:
        create_project("rollout", actor=agent_actor)
    assert error.value.field == "name"
    create_folder("Docs", project=project.pk, actor=agent_actor)
    with pytest.raises(Conflict):
        create_folder("docs", project=project.pk, actor=agent_actor)
    other = create_project("Other", actor=agent_actor)
    assert create_folder("Docs", project=other.pk, actor=agent_actor).project == other


@pytest.mark.parametrize(("arguments", "field"), [
    ({"name": ""}, "name"),
    ({"name": "P", "portfolio": 999}, "portfolio"),
    ({"name": "P", "organization": 999}, "organization"),
    ({"name": "P", "portfolio": 2**63}, "portfolio"),
])
def test_bad_project_input(agent_actor: Actor, arguments: dict, field: str) -> None:
    with pytest.raises(Invalid) as error:
        create_project(**arguments, actor=agent_actor)
    assert error.value.field == field and not Project.objects.exists()


def test_folders_need_a_project(agent_actor: Actor) -> None:
    with pytest.raises(Invalid) as error:
        create_folder("Docs", project=None, actor=agent_actor)
    assert error.value.field == "project"
    with pytest.raises(Invalid) as error:
        create_folder("Docs", project=42, actor=agent_actor)
    assert error.value.field == "project" and not Folder.objects.exists()


def test_switched_off_portfolios_refuse_new_ones(agent_actor: Actor, admin_actor: Actor) -> None:
    clients = create_portfolio("Clients", actor=agent_actor)
    update_settings({"portfolios_enabled": False}, actor=admin_actor)
    with pytest.raises(Invalid):
        create_portfolio("More", actor=agent_actor)
    with pytest.raises(Invalid) as error:
        create_project("P", portfolio=clients.pk, actor=agent_actor)
    assert error.value.field == "portfolio"
    assert create_project("P", actor=agent_actor).portfolio is None


def test_deleting_keeps_the_work(ticket: Item, agent_actor: Actor) -> None:
    clients = create_portfolio("Clients", actor=agent_actor)
    project = create_project("Rollout", portfolio=clients.pk, actor=agent_actor)
    folder = create_folder("Docs", project=project.pk, actor=agent_actor)
    change_item(ticket, changes=ItemChanges(project=project.pk, folder=folder.pk), actor=agent_actor)
    delete_folder(folder, actor=agent_actor)
    ticket.refresh_from_db()
    assert (ticket.project, ticket.folder) == (project, None)
    delete_portfolio(clients, actor=agent_actor)
    project.refresh_from_db()
    assert project.portfolio is None and not Portfolio.objects.exists()
    delete_project(project, actor=agent_actor)
    ticket.refresh_from_db()
    assert ticket.project is None and Item.objects.count() == 1


def test_update_and_rename(agent_actor: Actor) -> None:
    project = create_project("Rollout", actor=agent_actor)
    create_project("Taken", actor=agent_actor)
    acme = create_organization("Acme", source=Source.AGENT, actor=agent_actor)
    update_project(project, changes=ProjectChanges(name="Acme rollout", organization=acme.pk), actor=agent_actor)
    project.refresh_from_db()
    assert (project.name, project.organization) == ("Acme rollout", acme)
    with pytest.raises(Conflict):
        update_project(project, changes=ProjectChanges(name="taken"), actor=agent_actor)
    with pytest.raises(Invalid) as error:
        update_project(project, changes=ProjectChanges(organization=999_999), actor=agent_actor)
    assert error.value.field == "organization"
    folder = create_folder("Docs", project=project.pk, actor=agent_actor)
    assert rename_folder(folder, name="Documents", actor=agent_actor).name == "Documents"
