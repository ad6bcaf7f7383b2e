"""The portal's requests: what each customer may see under each visibility rule (the matrix the
issue asks for), and submitting, replying, following and solving from the portal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from deskhand.accounts.models import CustomerAccount
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.inputs import OrganizationChanges
from deskhand.customers.models import Organization
from deskhand.customers.services import move_customer, update_organization
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Attachment, Follower, Item, Message, MessageKind
from deskhand.work.services.items import add_follower
from deskhand.work.services.messages import NewAttachment, add_message, submit_request

Accounts = dict[str, CustomerAccount]


@pytest.fixture
def people(make_customer: Callable[..., CustomerAccount], acme: Organization, globex: Organization) -> Accounts:
    return {"zoe": make_customer("zoe@acme.example"), "ann": make_customer("ann@acme.example"),
            "max": make_customer("max@globex.example"), "solo": make_customer("solo@gmail.com")}


@pytest.fixture
def tickets(people: Accounts) -> dict[str, Item]:
    """own: Zoë's; colleague: Ann's; followed: Ann's, Zoë follows; other: Max's at Globex."""
    def ticket(who: str, title: str) -> Item:
        customer = people[who].customer
        item = submit_request(ItemDraft(title=title, requester=customer), body=f"{title} body",
                              attachments=[NewAttachment(name=f"{title}.txt", content=b"secret " + title.encode())],
                              channel="portal", actor=Actor.customer(customer.email))
        add_message(item, kind=MessageKind.NOTE, body=f"internal note on {title}", actor=SYSTEM)
        return item

    made = {"own": ticket("zoe", "Own"), "colleague": ticket("ann", "Colleague"),
            "followed": ticket("ann", "Followed"), "other": ticket("max", "Other")}
    add_follower(made["followed"], customer=people["zoe"].customer, actor=SYSTEM)
    return made


MATRIX = {  # rule → viewer → the tickets listed and readable
    "requested": {"zoe": {"own"}, "max": {"other"}, "solo": set()},
    "requested_or_following": {"zoe": {"own", "followed"}, "max": {"other"}, "solo": set()},
    "organization": {"zoe": {"own", "colleague", "followed"}, "max": {"other"}, "solo": set()},
}


def _file(item: Item) -> Attachment:
    return Attachment.objects.filter(message__item=item).first()  # type: ignore[return-value]


@pytest.mark.parametrize("rule", list(MATRIX))
@pytest.mark.parametrize("viewer", ["zoe", "max", "solo"])
def test_each_customer_sees_exactly_what_the_rule_allows(
        rule: str, viewer: str, people: Accounts, tickets: dict[str, Item], admin_actor: Actor,
        portal_client: Callable[[CustomerAccount], Client]) -> None:
    update_settings({"portal_visibility": rule}, actor=admin_actor)
    client = portal_client(people[viewer])
    allowed = MATRIX[rule][viewer]
    listing = client.get("/portal/").content.decode()
    for name, item in tickets.items():
        visible = name in allowed
        assert (f'href="/portal/requests/{item.pk}"' in listing) == visible, (rule, viewer, name)
        found = client.get(f"/portal/?q={item.title}").content.decode()
        assert (f"/portal/requests/{item.pk}" in found) == visible
        detail = client.get(f"/portal/requests/{item.pk}")
        assert detail.status_code == (200 if visible else 404), (rule, viewer, name)
        download = client.get(f"/portal/requests/{item.pk}/files/{_file(item).pk}")
        assert download.status_code == (200 if visible else 404)
        if visible:
            page = detail.content.decode()
            assert f"{item.title} body" in page and "internal note" not in page
            assert b"".join(download.streaming_content) == b"secret " + item.title.encode()  # type: ignore[attr-defined]
            continue
        before = (Message.objects.filter(item=item).count(), Follower.objects.filter(item=item).count(),
                  item.status_id)
        assert client.post(f"/portal/requests/{item.pk}", {"body": "let me in"}).status_code == 404
        assert client.post(f"/portal/requests/{item.pk}/follow", {"follow": "on"}).status_code == 404
        assert client.post(f"/portal/requests/{item.pk}/follow", {"follow": "off"}).status_code == 404
        assert client.post(f"/portal/requests/{item.pk}/solve").status_code == 404
        item.refresh_from_db()
        assert (Message.objects.filter(item=item).count(), Follower.objects.filter(item=item).count(),
                item.status_id) == before
    # a file of a visible request cannot be fetched through another request's address
    own = next(iter(allowed), None)
    if own is not None:
        other = tickets["other"] if viewer != "max" else tickets["own"]
        assert client.get(f"/portal/requests/{tickets[own].pk}/files/{_file(other).pk}").status_code == 404


def test_tabs_overrides_and_moves_take_effect_on_the_next_request(
        people: Accounts, tickets: dict[str, Item], admin_actor: Actor, acme: Organization, globex: Organization,
        portal_client: Callable[[CustomerAccount], Client]) -> None:
    update_settings({"portal_visibility": "requested"}, actor=admin_actor)
    client = portal_client(people["zoe"])
    colleague = f"/portal/requests/{tickets['colleague'].pk}"
    page = client.get("/portal/").content.decode()
    assert "My organization" not in page and client.get(colleague).status_code == 404
    update_organization(acme, changes=OrganizationChanges(portal_visibility="organization"), actor=admin_actor)
    page = client.get("/portal/?tab=organization").content.decode()
    assert "My organization" in page and colleague in page and client.get(colleague).status_code == 200
    assert f"/portal/requests/{tickets['own'].pk}" in client.get("/portal/?tab=mine").content.decode()
    assert colleague not in client.get("/portal/?tab=mine").content.decode()
    move_customer(people["zoe"].customer, to=globex, actor=admin_actor)
    assert client.get(colleague).status_code == 404
    assert f"/portal/requests/{tickets['other'].pk}" not in client.get("/portal/").content.decode()  # Globex: requested


def test_an_unverified_address_never_sees_its_organization(people: Accounts, tickets: dict[str, Item],
                                                          admin_actor: Actor, acme: Organization) -> None:
    from deskhand.work.queries import PortalViewer, portal_items

    update_settings({"portal_visibility": "organization"}, actor=admin_actor)
    zoe = people["zoe"].customer
    assert set(portal_items(PortalViewer(zoe, verified=True))) == {tickets["own"], tickets["colleague"],
                                                                    tickets["followed"]}
    assert set(portal_items(PortalViewer(zoe, verified=False))) == {tickets["own"], tickets["followed"]}


def test_submit_reply_follow_and_solve(people: Accounts, tickets: dict[str, Item], admin_actor: Actor,
                                       portal_client: Callable[[CustomerAccount], Client]) -> None:
    update_settings({"portal_visibility": "organization"}, actor=admin_actor)
    client = portal_client(people["zoe"])
    form = client.get("/portal/requests/new").content.decode()
    assert "Submit request" in form and 'for="id_title"' in form
    response = client.post("/portal/requests/new", {
        "title": "Printer on fire", "description": "It smokes.",
        "attachments": [SimpleUploadedFile("photo.txt", b"smoke")]})
    assert response.status_code == 302
    item = Item.objects.get(title="Printer on fire")
    assert item.channel == "portal" and item.requester == people["zoe"].customer
    assert item.organization == people["zoe"].customer.organization
    [first] = Message.objects.filter(item=item)
    assert first.kind == MessageKind.CUSTOMER and first.body == "It smokes." and first.attachments.count() == 1
    assert client.post(f"/portal/requests/{item.pk}", {"body": "Still smoking."}).status_code == 302
    assert Message.objects.filter(item=item, kind=MessageKind.CUSTOMER).count() == 2
    assert client.post(f"/portal/requests/{item.pk}", {"body": ""}).status_code == 422
    colleague = tickets["colleague"]
    client.post(f"/portal/requests/{colleague.pk}/follow", {"follow": "on"})
    assert Follower.objects.filter(item=colleague, customer=people["zoe"].customer).exists()
    assert f"/portal/requests/{colleague.pk}" in client.get("/portal/?tab=followed").content.decode()
    client.post(f"/portal/requests/{colleague.pk}/follow", {"follow": "off"})
    assert not Follower.objects.filter(item=colleague, customer=people["zoe"].customer).exists()
    assert client.post(f"/portal/requests/{colleague.pk}/solve").status_code == 404  # only the requester
    assert "Mark as solved" not in client.get(f"/portal/requests/{colleague.pk}").content.decode()
    client.post(f"/portal/requests/{item.pk}/solve")
    item.refresh_from_db()
    assert item.status.category == "done"
    assert "Mark as solved" not in client.get(f"/portal/requests/{item.pk}").content.decode()


def test_the_bad_organization_visibility_is_a_422(api: Any, acme: Organization) -> None:
    response = api.patch(f"/organizations/{acme.pk}", {"portal_visibility": "everyone"})
    assert response.status_code == 422 and response.json()["field"] == "portal_visibility"
    assert api.patch(f"/organizations/{acme.pk}", {"portal_visibility": "organization"}).json()[
        "portal_visibility"] == "organization"
    assert api.patch(f"/organizations/{acme.pk}", {"portal_visibility": None}).json()["portal_visibility"] is None


def test_pages_cost_the_same_statements_however_many_requests(
        people: Accounts, admin_actor: Actor, portal_client: Callable[[CustomerAccount], Client]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    update_settings({"portal_visibility": "organization"}, actor=admin_actor)
    client = portal_client(people["zoe"])

    def statements(path: str) -> int:
        client.get(path)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    def add(count: int) -> Item:
        for number in range(count):
            item = submit_request(ItemDraft(title=f"T{number}", requester=people["ann"].customer), body="x",
                                  channel="portal", actor=SYSTEM)
        return item

    first = add(1)
    few = [statements(path) for path in ("/portal/", "/portal/?tab=organization", f"/portal/requests/{first.pk}")]
    add(40)
    many = [statements(path) for path in ("/portal/", "/portal/?tab=organization", f"/portal/requests/{first.pk}")]
    assert few == many
