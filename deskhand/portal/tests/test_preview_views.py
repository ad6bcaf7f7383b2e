"""*Preview as customer*: an agent sees exactly the customer's portal, read-only, and the customer's
history records it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from deskhand.accounts.models import CustomerAccount
from deskhand.agents.models import Agent
from deskhand.audit.models import AuditEvent
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.models import Organization
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item
from deskhand.work.services.messages import submit_request


def _ticket(account: CustomerAccount, title: str) -> Item:
    return submit_request(ItemDraft(title=title, requester=account.customer), body=f"{title} body",
                          channel="portal", actor=Actor.customer(account.customer.email))


def test_an_agent_previews_what_the_customer_sees(agent_client: Client, agent: Agent,
                                                   make_customer: Callable[..., CustomerAccount],
                                                   acme: Organization, globex: Organization) -> None:
    update_settings({"portal_visibility": "requested"}, actor=SYSTEM)
    zoe, ann, max_ = (make_customer(e) for e in ("zoe@acme.example", "ann@acme.example", "max@globex.example"))
    own, colleague, other = _ticket(zoe, "Own"), _ticket(ann, "Colleague"), _ticket(max_, "Other")
    page = agent_client.get(f"/portal/preview/{zoe.customer.pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and "Preview: the portal as zoe@acme.example sees it" in text
    assert f"/portal/preview/{zoe.customer.pk}/requests/{own.pk}" in text
    assert "Colleague" not in text and "Other" not in text and "New request" not in text
    detail = agent_client.get(f"/portal/preview/{zoe.customer.pk}/requests/{own.pk}").content.decode()
    assert "Own body" in detail and "Send reply" not in detail and "Mark as solved" not in detail
    assert agent_client.get(f"/portal/preview/{zoe.customer.pk}/requests/{colleague.pk}").status_code == 404
    assert agent_client.get(f"/portal/preview/{zoe.customer.pk}/requests/{other.pk}").status_code == 404
    assert agent_client.post(f"/portal/preview/{zoe.customer.pk}/").status_code == 405
    agent_client.get(f"/portal/preview/{zoe.customer.pk}/?q=Own")
    [seen] = AuditEvent.objects.filter(action="portal.previewed", object_id=zoe.customer.pk)  # once a session
    other_session = Client()
    other_session.force_login(agent)
    other_session.get(f"/portal/preview/{zoe.customer.pk}/requests/{own.pk}?q=x")
    assert AuditEvent.objects.filter(action="portal.previewed", object_id=zoe.customer.pk).count() == 2
    assert seen.actor_kind == "agent" and seen.actor_label == "ana@deskhand.test"


def test_preview_needs_an_agent(client: Client, make_customer: Callable[..., CustomerAccount],
                                portal_client: Callable[[CustomerAccount], Client]) -> None:
    zoe = make_customer("zoe@acme.example")
    assert client.get(f"/portal/preview/{zoe.customer.pk}/")["Location"].startswith("/login?next=")
    customer_browser = portal_client(zoe)  # a customer session is not an agent's
    assert customer_browser.get(f"/portal/preview/{zoe.customer.pk}/").status_code == 302
    assert not AuditEvent.objects.filter(action="portal.previewed").exists()


def test_invite_from_the_profile_and_the_api(agent_client: Client, api: Any, acme: Organization) -> None:
    from deskhand.customers.services import find_or_create_customer
    from deskhand.mail.models import OutboundMessage

    customer, _ = find_or_create_customer("max@acme.example", source="agent", actor=SYSTEM)
    profile = agent_client.get(f"/customers/{customer.pk}").content.decode()
    assert "Invite to the portal" in profile and "No portal account yet." in profile
    assert "the requests they asked for or follow" in profile
    response = agent_client.post(f"/customers/{customer.pk}/invite")
    assert response.status_code == 302
    assert OutboundMessage.objects.filter(kind="portal_invite", recipient_key="max@acme.example").count() == 1
    invited = api.post(f"/customers/{customer.pk}/invite")
    assert invited.status_code == 202 and invited.json() == {"customer": customer.pk, "email": "max@acme.example",
                                                             "verified": False}
    assert api.post("/customers/999999/invite").status_code == 404
