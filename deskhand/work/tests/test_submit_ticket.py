from __future__ import annotations

import pytest

from deskhand.audit.models import AuditEvent
from deskhand.core.actors import Actor
from deskhand.core.errors import Invalid
from deskhand.customers.models import Customer, Organization, Source
from deskhand.customers.services import create_customer, move_customer
from deskhand.fields.services import create_custom_field
from deskhand.work.inputs import AssigneeRef, FollowerRef, ItemChanges, ItemDraft
from deskhand.work.models import Follower, Item
from deskhand.work.queries import item_events
from deskhand.work.services.items import submit_ticket


def test_a_new_address_becomes_a_customer_filed_by_the_domain_rule(agent_actor: Actor) -> None:
    ticket = submit_ticket(ItemDraft(title="VPN down", requester_email="Mia@Globex.example", requester_name="Mia"), channel="api", actor=agent_actor)
    customer = Customer.objects.get()
    assert ticket.requester == customer and customer.name == "Mia" and customer.source == Source.API
    assert ticket.organization == customer.organization == Organization.objects.get(name="globex.example")
    assert ticket.reference == f"#{ticket.pk}"
    assert ticket.status.key == "new" and ticket.priority_key == "normal" and ticket.channel == "api"


def test_a_known_address_reuses_the_customer(agent_actor: Actor) -> None:
    existing = create_customer("ana@initech.example", source=Source.AGENT, actor=agent_actor)
    ticket = submit_ticket(ItemDraft(title="Hello", requester_email="ANA@initech.example"), actor=agent_actor)
    assert ticket.requester == existing and Customer.objects.count() == 1


def test_the_requester_follows_the_ticket(agent_actor: Actor) -> None:
    ticket = submit_ticket(ItemDraft(title="Hello", requester_email="ana@initech.example"), actor=agent_actor)
    assert list(Follower.objects.filter(item=ticket).values_list("customer__email", flat=True)) == [
        "ana@initech.example"]


def test_the_organization_is_fixed_at_submission(agent_actor: Actor) -> None:
    ticket = submit_ticket(ItemDraft(title="Hello", requester_email="ana@initech.example"), actor=agent_actor)
    initech = ticket.organization
    move_customer(ticket.requester, to=None, actor=agent_actor)
    ticket.refresh_from_db()
    assert ticket.organization == initech


def test_submission_is_recorded_with_its_actor(agent_actor: Actor) -> None:
    ticket = submit_ticket(ItemDraft(title="Hello", requester_email="ana@initech.example", priority="urgent"), actor=agent_actor)
    event = item_events(ticket).get()
    assert event.action == "ticket.created" and event.actor_label == agent_actor.label
    assert event.changes["priority"] == "urgent" and event.changes["requester"] == "ana@initech.example"


@pytest.mark.parametrize(("arguments", "field"), [
    ({"title": "   "}, "title"),
    ({"title": "x" * 301}, "title"),
    ({"title": "Hi", "requester_email": "not an address"}, "requester_email"),
    ({"title": "Hi", "requester_email": None}, "requester_email"),
    ({"title": "Hi", "status": "archived"}, "status"),
    ({"title": "Hi", "priority": "critical"}, "priority"),
    ({"title": "Hi", "project": 999}, "project"),
    ({"title": "Hi", "folder": 999}, "folder"),
    ({"title": "Hi", "assignees": [AssigneeRef(kind="agent", id=999)]}, "assignees"),
    ({"title": "Hi", "assignees": [AssigneeRef(kind="team", id=2**63)]}, "assignees"),
    ({"title": "Hi", "followers": [FollowerRef(kind="customer", email="no address")]}, "followers"),
    ({"title": "Hi\x00"}, "title"),
])
def test_bad_input_names_the_field_and_writes_nothing(agent_actor: Actor, arguments: dict, field: str) -> None:
    arguments = {"requester_email": "ana@initech.example", **arguments}
    with pytest.raises(Invalid) as error:
        submit_ticket(ItemDraft(**arguments), actor=agent_actor)
    assert error.value.field == field
    assert not Item.objects.exists() and not Customer.objects.exists() and not Organization.objects.exists()
    assert not AuditEvent.objects.filter(object_type__in=["item", "customer"]).exists()


def test_an_unknown_channel_is_refused(agent_actor: Actor) -> None:
    with pytest.raises(Invalid) as error:
        submit_ticket(ItemDraft(title="Hi", requester_email="ana@initech.example"), channel="fax", actor=agent_actor)
    assert error.value.field == "channel"
    assert not Item.objects.exists() and not Customer.objects.exists() and not Organization.objects.exists()
    assert not AuditEvent.objects.filter(object_type__in=["item", "customer"]).exists()


def test_required_ticket_fields_are_enforced_for_people_not_for_channels(agent_actor: Actor,
                                                                          admin_actor: Actor) -> None:
    create_custom_field(applies_to="ticket", key="contract", label="Contract", type="text", required=True,
                        actor=admin_actor)
    with pytest.raises(Invalid) as error:
        submit_ticket(ItemDraft(title="Hi", requester_email="ana@initech.example"), actor=agent_actor)
    assert error.value.field == "custom_fields.contract"
    ticket = submit_ticket(ItemDraft(title="Hi", requester_email="ana@initech.example"), channel="email", actor=agent_actor)
    assert ticket.custom_fields == {}
    ticket = submit_ticket(ItemDraft(title="Hi", requester_email="ana@initech.example", custom_fields={"contract": "C-1"}), actor=agent_actor)
    assert ticket.custom_fields == {"contract": "C-1"}


def test_merging_customers_hands_their_tickets_to_the_survivor(agent_actor: Actor) -> None:
    from deskhand.customers.services import merge_customers
    from deskhand.work.queries import items_of_customer
    from deskhand.work.services.items import change_item
    from deskhand.work.services.messages import add_message

    old = submit_ticket(ItemDraft(title="Old address", requester_email="bob@acme.example"), actor=agent_actor)
    new = submit_ticket(ItemDraft(title="New address", requester_email="robert@acme.example"), actor=agent_actor)
    change_item(new, changes=ItemChanges(followers=[FollowerRef(kind="customer", email="bob@acme.example")]), actor=agent_actor)
    add_message(old, kind="customer", body="Hello?", actor=Actor.customer("bob@acme.example"))
    survivor = merge_customers(old.requester, into=new.requester, actor=agent_actor)
    old.refresh_from_db()
    assert old.requester == survivor and old.messages.get().author_customer == survivor
    assert [item.title for item in items_of_customer(survivor)] == ["New address", "Old address"]
    assert Follower.objects.filter(item=new, customer=survivor).count() == 1


def test_merging_organizations_keeps_their_tickets_filed(agent_actor: Actor) -> None:
    from deskhand.customers.services import merge_organizations
    from deskhand.work.services.projects import create_project

    acme = submit_ticket(ItemDraft(title="A", requester_email="a@acme.example"), actor=agent_actor)
    globex = submit_ticket(ItemDraft(title="B", requester_email="b@globex.example"), actor=agent_actor)
    project = create_project("Acme support", organization=acme.organization_id, actor=agent_actor)
    merge_organizations(acme.organization, into=globex.organization, actor=agent_actor)
    acme.refresh_from_db()
    project.refresh_from_db()
    assert acme.organization == globex.organization == project.organization


def test_naming_the_requester_as_a_follower_too_is_harmless(agent_actor: Actor) -> None:
    first = submit_ticket(ItemDraft(title="Hi", requester_email="ana@initech.example"), actor=agent_actor)
    ticket = submit_ticket(ItemDraft(title="Again", requester=first.requester_id, followers=[FollowerRef(kind="customer", email="ANA@initech.example"), FollowerRef(kind="customer", id=first.requester_id)]), actor=agent_actor)
    assert Follower.objects.filter(item=ticket).count() == 1


def test_an_id_beyond_64_bits_is_invalid_input(agent_actor: Actor) -> None:
    with pytest.raises(Invalid) as error:
        submit_ticket(ItemDraft(title="Hi", requester_email="a@b.example", project=2**64), actor=agent_actor)
    assert error.value.field == "project"
