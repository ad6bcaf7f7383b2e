"""The portal's chat page: anyone with an address, and a signed-in customer without one."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from deskhand.chat.models import Chat, ChatSource


def test_the_page_asks_a_visitor_for_an_address(db: Any, client: Client) -> None:
    page = client.get("/portal/chat").content.decode()
    assert 'id="chat-email"' in page and "Start chat" in page


def test_a_visitor_starts_a_chat_from_the_portal(db: Any, client: Client) -> None:
    answer = client.post("/portal/chat/start", json.dumps({"email": "zoe@example.org", "message": "Hi"}),
                         content_type="application/json")
    assert answer.status_code == 201 and answer.json()["status"] == "waiting"
    assert Chat.objects.get().source == ChatSource.PORTAL
    bad = client.post("/portal/chat/start", json.dumps({"email": "", "message": "Hi"}), content_type="application/json")
    assert bad.status_code == 422 and bad.json()["field"] == "email"


def test_a_signed_in_customer_is_known_and_gives_no_address(make_customer: Any, portal_client: Any) -> None:
    account = make_customer("ana@acme.com", "Ana")
    client = portal_client(account)
    page = client.get("/portal/chat").content.decode()
    assert 'id="chat-email"' not in page and "ana@acme.com" in page
    answer = client.post("/portal/chat/start", json.dumps({"message": "Hello from Ana"}),
                         content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert answer.status_code == 201
    assert Chat.objects.get().customer_id == account.customer_id


def test_a_portal_chat_works_while_the_widget_is_switched_off(db: Any, client: Client) -> None:
    # The portal's page speaks the widget's chat endpoints; switching the widget off (to keep it off
    # other sites) left a chat started in the portal without a way to write or to end it.
    from deskhand.config.services import update_settings
    from deskhand.core.actors import SYSTEM

    update_settings({"widget_enabled": False}, actor=SYSTEM)
    data = client.post("/portal/chat/start", json.dumps({"email": "zoe@example.org", "message": "Hi"}),
                       content_type="application/json").json()
    token = {"HTTP_X_CHAT_TOKEN": data["token"]}
    sent = client.post(f"/widget/chats/{data['id']}/messages", json.dumps({"body": "Anyone?"}),
                       content_type="application/json", **token)
    assert sent.status_code == 201
    assert client.post(f"/widget/chats/{data['id']}/end", **token).status_code == 202
    assert client.post(f"/widget/chats/{data['id']}/transcript", **token).status_code == 202
    # The widget itself stays off: no new chat from it, and other sites are refused.
    assert client.post("/widget/chats", json.dumps({"email": "zoe@example.org", "message": "Hi"}),
                       content_type="application/json").status_code == 404
    assert client.post(f"/widget/chats/{data['id']}/messages", json.dumps({"body": "x"}), content_type="application/json",
                       HTTP_ORIGIN="https://shop.example.org", **token).status_code == 403
