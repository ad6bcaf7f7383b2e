"""The reply box and the Replies page over HTTP: a reply with Cc, Send and set Pending, a bad
address kept in the box with an error, the draft, canned responses filled in, a macro applied."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from deskhand.agents.models import Agent
from deskhand.audit.models import AuditEvent
from deskhand.core.actors import Actor
from deskhand.mail.models import OutboundMessage
from deskhand.replies.models import CannedResponse, Macro, ReplyDraft
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Item, Message
from deskhand.work.services.items import submit_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(agent_actor: Actor) -> Item:
    return submit_ticket(ItemDraft(title="VPN drops", requester_email="dora.lee@acme.example",
                                   requester_name="Dora Lee"), actor=agent_actor)


def test_a_reply_with_cc_then_pending(agent_client: Client, ticket: Item, agent: Agent) -> None:
    agent.signature = "Ana from Support"
    agent.save()
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert 'for="reply-cc"' in page and "Send and set Pending" in page and "Ana from Support" in page
    response = agent_client.post(f"/tickets/{ticket.pk}/reply", {
        "body": "It is **fixed**.", "cc": "carl@acme.example, it@acme.example", "bcc": "boss@acme.example",
        "then": "pending", "signature": "1"})
    assert response.status_code == 302
    message = Message.objects.get(kind="reply")
    assert message.body == "It is **fixed**.\n\nAna from Support"
    outbound = OutboundMessage.objects.get()
    assert outbound.headers["Cc"] == "carl@acme.example, it@acme.example"
    ticket.refresh_from_db()
    assert ticket.status.category == "pending"
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert "Cc carl@acme.example, it@acme.example" in page and "<strong>fixed</strong>" in page


def test_a_bad_cc_keeps_the_box_and_sends_nothing(agent_client: Client, ticket: Item) -> None:
    response = agent_client.post(f"/tickets/{ticket.pk}/reply", {"body": "Hello", "cc": "carl@"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "is not an email address" in page and 'value="carl@"' in page and ">Hello</textarea>" in page
    assert not Message.objects.exists()


def test_the_draft_is_saved_and_shown_again(agent_client: Client, ticket: Item) -> None:
    saved = agent_client.post(f"/tickets/{ticket.pk}/draft", {"body": "Half", "cc": "x@acme.example"},
                              headers={"HX-Request": "true"})
    assert saved.content == b"Draft saved"
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert ">Half</textarea>" in page and 'value="x@acme.example"' in page
    agent_client.post(f"/tickets/{ticket.pk}/reply", {"body": "Whole"})
    assert not ReplyDraft.objects.exists()


def test_canned_responses_are_managed_and_filled_in(agent_client: Client, ticket: Item) -> None:
    created = agent_client.post("/replies/canned", {"title": "Greeting", "shortcut": "hi",
                                                     "body": "Hello {{ requester.first_name }}, {{ item.reference }}"})
    assert created.status_code == 302
    canned = CannedResponse.objects.get()
    text = agent_client.get(f"/tickets/{ticket.pk}/canned/{canned.pk}")
    assert text.content.decode() == f"Hello Dora, {ticket.reference}"
    refused = agent_client.post("/replies/canned", {"title": "Bad", "body": "{{ ticket.nope }}"})
    assert refused.status_code == 422 and "There is no placeholder" in refused.content.decode()
    page = agent_client.get("/replies").content.decode()
    assert "Greeting" in page and ";hi" in page


def test_a_macro_is_made_and_applied_from_the_item_page(agent_client: Client, ticket: Item, agent: Agent) -> None:
    made = agent_client.post("/replies/macros", {"name": "Close politely", "reply": "Closing, {{ agent.first_name }}.",
                                                 "status": "done", "priority": "low", "assign": f"agent:{agent.pk}"})
    assert made.status_code == 302
    macro = Macro.objects.get()
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert "Close politely" in page
    applied = agent_client.post(f"/tickets/{ticket.pk}/macros/{macro.pk}")
    assert applied.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status.category == "done" and ticket.priority_key == "low"
    assert Message.objects.get().body == "Closing, Ana."
    assert AuditEvent.objects.filter(action="macro.applied", actor_label__endswith="via macro “Close politely”").exists()


def test_other_agents_personal_ones_are_not_found(client: Client, agent_client: Client, ticket: Item,
                                                  admin: Agent, settings: Any) -> None:
    agent_client.post("/replies/canned", {"title": "Mine", "body": "x"})
    canned = CannedResponse.objects.get()
    client.force_login(admin)
    assert client.get(f"/tickets/{ticket.pk}/canned/{canned.pk}").status_code == 404
    assert "Mine" not in client.get("/replies").content.decode()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def test_a_pasted_image_is_kept_for_its_author_and_previewed(agent_client: Client, client: Client, ticket: Item,
                                                              admin: Agent) -> None:
    pasted = agent_client.post(f"/tickets/{ticket.pk}/paste",
                               {"image": SimpleUploadedFile("clip.png", PNG, content_type="image/png")})
    assert pasted.status_code == 200
    markdown = pasted.json()["markdown"]
    assert markdown.startswith("![clip.png](/replies/images/")
    url = markdown[markdown.index("(") + 1:-1]
    served = agent_client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    client.force_login(admin)
    assert client.get(url).status_code == 404  # another agent's paste
    refused = agent_client.post(f"/tickets/{ticket.pk}/paste",
                                {"image": SimpleUploadedFile("x.svg", b"<svg onload=alert(1)>")})
    assert refused.status_code == 422
    preview = agent_client.post(f"/tickets/{ticket.pk}/preview",
                                {"body": f"**Look** {markdown} <script>alert(1)</script>"}).content.decode()
    assert "<strong>Look</strong>" in preview and f'<img src="{url}"' in preview and "<script" not in preview
