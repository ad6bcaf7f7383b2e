"""The reply box's send: Markdown as text and HTML, Cc in the headers and Bcc only in the
envelope, the signature below, then a status; a bad address sends nothing; the draft."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

import pytest

from deskhand.agents.models import Agent
from deskhand.audit.models import AuditEvent
from deskhand.core.actors import Actor
from deskhand.core.errors import Invalid
from deskhand.mail.models import OutboundMessage
from deskhand.mail.outbound import deliver_outbound
from deskhand.replies.inputs import Draft, Reply
from deskhand.replies.models import PastedImage, ReplyDraft
from deskhand.replies.queries import copies_for_messages, draft_for
from deskhand.replies.services import paste_image, save_draft, send_reply
from deskhand.testing.smtp import Capture, smtp_server  # noqa: F401 - the fixture
from deskhand.work.models import Item, Message

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def test_a_reply_with_cc_and_bcc_reaches_them_all_and_names_only_cc(
        ticket: Item, agent_actor: Actor, settings: Any, smtp_server: tuple[Capture, int]) -> None:  # noqa: F811
    capture, port = smtp_server
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    message = send_reply(ticket, reply=Reply(body="Fixed **now**.", cc=["Carl@Acme.example", "bob.stone@acme.example"],
                                             bcc=["boss@acme.example", "carl@acme.example"]), actor=agent_actor)
    assert message.body == "Fixed **now**." and "<strong>now</strong>" in message.body_html
    outbound = OutboundMessage.objects.get()
    assert deliver_outbound.call(outbound_id=outbound.pk) == "sent"
    [raw] = capture.messages
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == "bob.stone@acme.example"
    assert mail["Cc"] == "Carl@acme.example"  # the requester is not copied twice
    assert mail["Bcc"] is None and b"boss@acme.example" not in raw
    [(_sender, rcpt)] = capture.envelopes
    assert sorted(rcpt) == ["Carl@acme.example", "bob.stone@acme.example", "boss@acme.example"]
    assert "Fixed **now**." in mail.get_body(("plain",)).get_content()
    assert "<strong>now</strong>" in mail.get_body(("html",)).get_content()
    assert copies_for_messages([message.pk]) == {message.pk: {"cc": ["Carl@acme.example"],
                                                              "bcc": ["boss@acme.example"]}}
    event = AuditEvent.objects.get(action="message.reply")
    assert event.changes["cc"] == ["Carl@acme.example"] and event.changes["bcc"] == ["boss@acme.example"]


@pytest.mark.parametrize(("cc", "bcc", "field"), [
    (["not an address"], [], "cc"), ([], ["x@"], "bcc"), ([f"p{n}@acme.example" for n in range(11)], [], "cc")])
def test_a_bad_copy_address_sends_nothing(ticket: Item, agent_actor: Actor, cc: list[str], bcc: list[str],
                                          field: str) -> None:
    with pytest.raises(Invalid) as refused:
        send_reply(ticket, reply=Reply(body="Hello", cc=cc, bcc=bcc, then="done"), actor=agent_actor)
    assert refused.value.field == field
    assert not Message.objects.exists() and not OutboundMessage.objects.exists()
    ticket.refresh_from_db()
    assert ticket.status.category != "done"


def test_send_and_set_pending_or_done(ticket: Item, agent_actor: Actor) -> None:
    send_reply(ticket, reply=Reply(body="Waiting for you", then="pending"), actor=agent_actor)
    ticket.refresh_from_db()
    assert ticket.status.category == "pending"
    send_reply(ticket, reply=Reply(body="Done", then="done"), actor=agent_actor)
    ticket.refresh_from_db()
    assert ticket.status.category == "done"
    with pytest.raises(Invalid) as refused:
        send_reply(ticket, reply=Reply(body="x", then="sideways"), actor=agent_actor)
    assert refused.value.field == "then"


def test_the_signature_goes_below_replies_not_notes(ticket: Item, agent: Agent, agent_actor: Actor) -> None:
    agent.signature = "Ana\n*Support team*"
    agent.save()
    reply = send_reply(ticket, reply=Reply(body="Hello"), actor=agent_actor)
    assert reply.body == "Hello\n\nAna\n*Support team*"
    assert "<p>Ana<br>\n<em>Support team</em></p>" in reply.body_html
    note = send_reply(ticket, reply=Reply(body="Internal"), actor=agent_actor, kind="note")
    assert note.body == "Internal"
    unsigned = send_reply(ticket, reply=Reply(body="Plain", signature=False), actor=agent_actor)
    assert unsigned.body == "Plain"
    with pytest.raises(Invalid):  # a signature alone is not a reply
        send_reply(ticket, reply=Reply(body="  "), actor=agent_actor)


def test_the_draft_is_kept_restored_and_cleared_by_sending(ticket: Item, agent: Agent, bea: Agent,
                                                          agent_actor: Actor) -> None:
    save_draft(ticket, draft=Draft(body="Half a tho", cc="carl@acme"), actor=agent_actor)
    save_draft(ticket, draft=Draft(body="Half a thought", cc="carl@acme.example"), actor=agent_actor)
    draft = draft_for(agent.pk, ticket.pk)
    assert draft is not None and (draft.body, draft.cc) == ("Half a thought", "carl@acme.example")
    assert draft_for(bea.pk, ticket.pk) is None
    send_reply(ticket, reply=Reply(body="Whole thought"), actor=agent_actor)
    assert not ReplyDraft.objects.exists()
    save_draft(ticket, draft=Draft(body="again"), actor=agent_actor)
    save_draft(ticket, draft=Draft(body=""), actor=agent_actor)  # an emptied box keeps no draft
    assert not ReplyDraft.objects.exists()


def test_a_pasted_image_goes_inline(ticket: Item, agent_actor: Actor, settings: Any,
                                   smtp_server: tuple[Capture, int]) -> None:  # noqa: F811
    capture, port = smtp_server
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    image = paste_image(ticket, name="clipboard.png", content=PNG, actor=agent_actor)
    with pytest.raises(Invalid):
        paste_image(ticket, name="x.png", content=b"<svg onload=alert(1)>", actor=agent_actor)
    message = send_reply(ticket, reply=Reply(body=f"Look: ![shot](/replies/images/{image.token})"),
                         actor=agent_actor)
    [attachment] = message.attachments.all()
    assert attachment.inline and attachment.content_id == f"{image.token}@deskhand"
    assert f'src="cid:{image.token}@deskhand"' in message.body_html and message.body == "Look: [image: shot]"
    assert not PastedImage.objects.exists()
    deliver_outbound.call(outbound_id=OutboundMessage.objects.get().pk)
    mail = message_from_bytes(capture.messages[0], policy=policy.default)
    related = [part for part in mail.walk() if part.get("Content-ID")]
    assert [part["Content-ID"] for part in related] == [f"<{image.token}@deskhand>"]
    assert related[0].get_content() == PNG
