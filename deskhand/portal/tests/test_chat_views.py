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
