from __future__ import annotations

from deskhand.agents.models import Agent, Team
from deskhand.core.actors import Actor
from deskhand.work.inputs import AssigneeRef, ItemDraft
from deskhand.work.models import Assignee
from deskhand.work.services.items import create_task
from deskhand.work.services.projects import create_folder, create_project


def test_a_task_needs_no_requester(agent_actor: Actor, agent: Agent) -> None:
    task = create_task(ItemDraft(title="Renew certificates"), actor=agent_actor)
    assert task.kind == "task" and task.requester is None and task.organization is None
    assert task.created_by == agent and task.status.key == "new"


def test_a_task_is_created_assigned_and_filed(agent_actor: Actor, agent: Agent, team: Team) -> None:
    project = create_project("Data centre", actor=agent_actor)
    folder = create_folder("Certificates", project=project.pk, actor=agent_actor)
    task = create_task(ItemDraft(title="Renew", project=project.pk, folder=folder.pk, priority="high", assignees=[AssigneeRef(kind="agent", id=agent.pk), AssigneeRef(kind="team", id=team.pk)]), actor=agent_actor)
    assert (task.project, task.folder, task.priority_key) == (project, folder, "high")
    assert {(a.agent_id, a.team_id) for a in Assignee.objects.filter(item=task)} == {(agent.pk, None), (None, team.pk)}


def test_a_task_status_is_one_of_the_task_workflow(agent_actor: Actor) -> None:
    task = create_task(ItemDraft(title="Renew", status="pending"), actor=agent_actor)
    assert task.status.kind == "task" and task.status.key == "pending"
