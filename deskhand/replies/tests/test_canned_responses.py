"""Canned responses: shared ones for the team (admins manage them), personal ones nobody else
sees; placeholders from the automations' language, unknown ones refused."""

from __future__ import annotations

import pytest

from deskhand.agents.models import Agent
from deskhand.audit.models import AuditEvent
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid, NotFound
from deskhand.replies.inputs import CannedChanges, NewCannedResponse
from deskhand.replies.placeholders import fill
from deskhand.replies.queries import canned_list, get_canned_for_agent
from deskhand.replies.services import create_canned_response, delete_canned_response, update_canned_response
from deskhand.work.models import Item

pytestmark = pytest.mark.django_db


def test_an_agent_keeps_personal_ones_that_nobody_else_sees(agent: Agent, bea: Agent, admin: Agent) -> None:
    mine = create_canned_response(NewCannedResponse(title="Thanks", body="Thanks!", shortcut=";Thx"),
                                  actor=Actor.agent(agent))
    assert mine.owner_id == agent.pk and mine.shortcut == "thx"
    assert list(canned_list(agent.pk)) == [mine]
    assert list(canned_list(bea.pk)) == [] and list(canned_list(admin.pk)) == []
    with pytest.raises(NotFound):
        get_canned_for_agent(bea.pk, mine.pk)
    with pytest.raises(Forbidden):
        update_canned_response(mine, changes=CannedChanges(title="Mine now"), actor=Actor.agent(bea))
    with pytest.raises(Forbidden):
        delete_canned_response(mine, actor=Actor.agent(admin))


def test_only_admins_share_and_change_shared_ones(agent: Agent, bea: Agent, admin: Agent) -> None:
    with pytest.raises(Forbidden):
        create_canned_response(NewCannedResponse(title="Hello", body="Hi", shared=True), actor=Actor.agent(agent))
    shared = create_canned_response(NewCannedResponse(title="Hello", body="Hi", shared=True), actor=Actor.agent(admin))
    assert shared.owner_id is None
    assert list(canned_list(agent.pk)) == [shared] and list(canned_list(bea.pk)) == [shared]
    with pytest.raises(Forbidden):
        update_canned_response(shared, changes=CannedChanges(body="Bye"), actor=Actor.agent(agent))
    update_canned_response(shared, changes=CannedChanges(body="Hello there"), actor=Actor.agent(admin))
    shared.refresh_from_db()
    assert shared.body == "Hello there"
    assert AuditEvent.objects.filter(action="canned_response.updated", object_id=shared.pk).exists()
    delete_canned_response(shared, actor=Actor.agent(admin))
    assert list(canned_list(agent.pk)) == []


def test_titles_and_shortcuts_are_unique_per_owner(agent: Agent, bea: Agent) -> None:
    create_canned_response(NewCannedResponse(title="Refund", body="x", shortcut="ref"), actor=Actor.agent(agent))
    with pytest.raises(Conflict) as title:
        create_canned_response(NewCannedResponse(title="REFUND", body="y"), actor=Actor.agent(agent))
    assert title.value.field == "title"
    with pytest.raises(Conflict) as shortcut:
        create_canned_response(NewCannedResponse(title="Other", body="y", shortcut="REF"), actor=Actor.agent(agent))
    assert shortcut.value.field == "shortcut"
    create_canned_response(NewCannedResponse(title="Refund", body="x", shortcut="ref"), actor=Actor.agent(bea))


@pytest.mark.parametrize(("field", "new", "code"), [
    ("title", NewCannedResponse(title=" ", body="x"), "title_required"),
    ("body", NewCannedResponse(title="t", body=""), "body_required"),
    ("body", NewCannedResponse(title="t", body="x" * 20_001), "body_too_long"),
    ("shortcut", NewCannedResponse(title="t", body="x", shortcut="no spaces"), "invalid_shortcut"),
    ("body", NewCannedResponse(title="t", body="Hi {{ customer.shoe_size }}"), "unknown_placeholder"),
])
def test_bad_input_is_refused_naming_the_field(agent: Agent, field: str, new: NewCannedResponse, code: str) -> None:
    with pytest.raises(Invalid) as refused:
        create_canned_response(new, actor=Actor.agent(agent))
    assert (refused.value.field, refused.value.code) == (field, code)


def test_placeholders_are_filled_for_the_item_and_the_agent(ticket: Item, agent: Agent) -> None:
    body = ("Hi {{ requester.first_name }} ({{requester.name}}), about {{ item.reference }} “{{ item.title }}” "
            "for {{ organization.name }}: {{ agent.first_name }} / {{ agent.name }}")
    create_canned_response(NewCannedResponse(title="All", body=body), actor=Actor.agent(agent))
    assert fill(body, ticket, agent) == (
        f"Hi Bob (Bob Stone), about {ticket.reference} “Printer on fire” for acme.example: Ana / Ana Agent")
