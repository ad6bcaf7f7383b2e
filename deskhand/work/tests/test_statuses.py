from __future__ import annotations

import pytest

from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.work.inputs import ItemChanges, StatusChanges
from deskhand.work.models import Item, Status
from deskhand.work.services.items import change_item
from deskhand.work.services.statuses import create_status, delete_status, update_status


def test_every_workflow_starts_with_the_four_statuses(db: None) -> None:
    for kind in ("ticket", "task"):
        assert list(Status.objects.filter(kind=kind).values_list("key", "category")) == [
            ("new", "new"), ("open", "open"), ("pending", "pending"), ("done", "done")]


def test_an_admin_adds_a_status_that_items_can_take(ticket: Item, admin_actor: Actor, agent_actor: Actor) -> None:
    status = create_status(kind="ticket", key="waiting_vendor", label="Waiting for vendor", category="pending",
                           actor=admin_actor)
    assert status.position == 4
    change_item(ticket, changes=ItemChanges(status="waiting_vendor"), actor=agent_actor)
    with pytest.raises(Conflict):
        delete_status(status, actor=admin_actor)
    change_item(ticket, changes=ItemChanges(status="open"), actor=agent_actor)
    delete_status(status, actor=admin_actor)
    assert not Status.objects.filter(key="waiting_vendor").exists()


def test_only_admins_change_the_workflow(agent_actor: Actor) -> None:
    with pytest.raises(Forbidden):
        create_status(kind="ticket", key="x", label="X", category="open", actor=agent_actor)


@pytest.mark.parametrize(("arguments", "field"), [
    ({"kind": "ticket", "key": "Bad Key", "label": "X", "category": "open"}, "key"),
    ({"kind": "ticket", "key": "x", "label": "", "category": "open"}, "label"),
    ({"kind": "ticket", "key": "x", "label": "X", "category": "closed"}, "category"),
    ({"kind": "incident", "key": "x", "label": "X", "category": "open"}, "kind"),
])
def test_bad_statuses(admin_actor: Actor, arguments: dict, field: str) -> None:
    with pytest.raises(Invalid) as error:
        create_status(**arguments, actor=admin_actor)
    assert error.value.field == field


def test_built_in_statuses_stay(admin_actor: Actor) -> None:
    done = Status.objects.get(kind="task", key="done")
    with pytest.raises(Conflict):
        delete_status(done, actor=admin_actor)
    with pytest.raises(Invalid):
        update_status(done, changes=StatusChanges(category="open"), actor=admin_actor)
    assert update_status(done, changes=StatusChanges(label="Finished"), actor=admin_actor).label == "Finished"
    with pytest.raises(Conflict):
        create_status(kind="task", key="done", label="Again", category="done", actor=admin_actor)


def test_the_built_in_workflow_comes_back_after_a_flush(admin_actor: Actor) -> None:
    from deskhand.work.services.statuses import ensure_default_workflow

    extra = create_status(kind="task", key="blocked", label="Blocked", category="pending", actor=admin_actor)
    Status.objects.exclude(pk=extra.pk).delete()
    assert ensure_default_workflow() == 8
    assert ensure_default_workflow() == 0
    assert Status.objects.filter(kind="task").count() == 5


def test_a_new_status_goes_last_even_after_a_removal(admin_actor: Actor) -> None:
    first = create_status(kind="ticket", key="a", label="A", category="open", actor=admin_actor)
    create_status(kind="ticket", key="b", label="B", category="open", actor=admin_actor)
    delete_status(first, actor=admin_actor)
    third = create_status(kind="ticket", key="c", label="C", category="open", actor=admin_actor)
    assert third.position == 6
