from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from deskhand.config.services import update_settings
from deskhand.core.actors import Actor
from deskhand.core.errors import Invalid
from deskhand.mail.models import OutboundMessage
from deskhand.work.inputs import FollowerRef, ItemChanges
from deskhand.work.models import Attachment, Item, Message
from deskhand.work.queries import conversation, item_events
from deskhand.work.services.items import add_follower, change_item
from deskhand.work.services.messages import NewAttachment, add_message


def test_a_reply_goes_to_the_requester_and_customer_followers_through_the_outbox(
        ticket: Item, agent_actor: Actor, django_capture_on_commit_callbacks: Any) -> None:
    change_item(ticket, changes=ItemChanges(followers=[FollowerRef(kind="customer", id=ticket.requester_id), FollowerRef(kind="customer", email="carol@acme.example")]),
                actor=agent_actor)
    with django_capture_on_commit_callbacks() as callbacks:
        reply = add_message(ticket, kind="reply", body="We are on our way.", actor=agent_actor)
    assert reply.recipients == ["bob@acme.example", "carol@acme.example"]
    assert reply.author_email == "ana@deskhand.test"
    outbound = OutboundMessage.objects.get()
    assert outbound.to == reply.recipients and outbound.subject == f"[{ticket.reference}] Printer on fire"
    assert outbound.status == "queued" and len(callbacks) == 1


def test_a_note_never_leaves_the_team(ticket: Item, agent_actor: Actor) -> None:
    note = add_message(ticket, kind="note", body="Customer is a VIP.", actor=agent_actor)
    assert note.recipients == [] and not OutboundMessage.objects.exists()
    assert list(conversation(ticket, include_notes=False)) == []
    assert list(conversation(ticket)) == [note]


def test_a_new_follower_does_not_get_the_past_conversation(ticket: Item, agent_actor: Actor) -> None:
    from deskhand.customers.models import Source
    from deskhand.customers.services import create_customer

    add_message(ticket, kind="reply", body="First answer.", actor=agent_actor)
    carol = create_customer("carol@acme.example", source=Source.AGENT, actor=agent_actor)
    add_follower(ticket, customer=carol, actor=agent_actor)
    assert OutboundMessage.objects.count() == 1
    add_message(ticket, kind="reply", body="Second answer.", actor=agent_actor)
    assert OutboundMessage.objects.order_by("id").last().to == ["bob@acme.example", "carol@acme.example"]


def test_a_customer_message_is_written_by_the_requester(ticket: Item) -> None:
    message = add_message(ticket, kind="customer", body="Any news?", actor=Actor.customer("bob@acme.example"))
    assert message.author_customer == ticket.requester and message.author_email == "bob@acme.example"


def test_customers_cannot_write_notes(ticket: Item) -> None:
    with pytest.raises(Invalid):
        add_message(ticket, kind="note", body="psst", actor=Actor.customer("bob@acme.example"))


def test_attachments_are_stored_in_the_data_directory(ticket: Item, agent_actor: Actor) -> None:
    message = add_message(ticket, kind="note", body="Logs attached.", attachments=[
        NewAttachment(name="C:\\logs\\boot.log", content=b"boot ok\n", content_type="text/plain"),
        NewAttachment(name="screen.png", content=io.BytesIO(b"\x89PNG fake")),
    ], actor=agent_actor)
    first, second = message.attachments.order_by("id")
    assert (first.name, first.size, first.content_type) == ("boot.log", 8, "text/plain")
    assert second.content_type == "image/png"
    assert Path(first.file.path).is_relative_to(Path(settings.DATA_DIR) / "attachments")
    assert Path(first.file.path).read_bytes() == b"boot ok\n"
    assert item_events(ticket).last().changes["attachments"] == ["boot.log", "screen.png"]


def test_an_attachment_only_message_needs_no_text(ticket: Item, agent_actor: Actor) -> None:
    message = add_message(ticket, kind="reply", body="", actor=agent_actor,
                          attachments=[NewAttachment(name="invoice.pdf", content=b"%PDF")])
    assert message.attachments.count() == 1


@pytest.mark.parametrize(("attachments", "code"), [
    ([NewAttachment(name="setup.EXE", content=b"MZ")], "blocked_attachment_type"),
    ([NewAttachment(name="big.bin", content=b"x" * 2049)], "attachment_too_large"),
    ([NewAttachment(name="../../setup.exe\x00", content=b"MZ")], "blocked_attachment_type"),
])
def test_bad_attachments_are_refused_and_nothing_is_written(
        ticket: Item, agent_actor: Actor, admin_actor: Actor, attachments: list, code: str) -> None:
    update_settings({"attachment_max_bytes": 2048}, actor=admin_actor)
    with pytest.raises(Invalid) as error:
        add_message(ticket, kind="reply", body="Here", attachments=attachments, actor=agent_actor)
    assert (error.value.code, error.value.field) == (code, "attachments")
    assert not Message.objects.exists() and not Attachment.objects.exists() and not OutboundMessage.objects.exists()


def test_files_of_a_failed_message_are_removed(ticket: Item, agent_actor: Actor, monkeypatch: Any) -> None:
    import deskhand.work.services.messages as messages

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(messages, "record_many", fail)
    stored = Path(settings.DATA_DIR) / "attachments"
    before = set(stored.rglob("*"))
    with pytest.raises(RuntimeError):
        add_message(ticket, kind="note", body="x", attachments=[NewAttachment(name="lost-file.txt", content=b"a")],
                    actor=agent_actor)
    assert not Attachment.objects.exists()
    assert not [path for path in set(stored.rglob("*")) - before if path.name.startswith("lost-file")]


@pytest.mark.parametrize("body", ["", "   ", None])
def test_an_empty_message_is_refused(ticket: Item, agent_actor: Actor, body: Any) -> None:
    with pytest.raises(Invalid) as error:
        add_message(ticket, kind="reply", body=body, actor=agent_actor)
    assert error.value.field == "body"


@pytest.mark.parametrize(("given", "shown", "stored"), [
    ("..", "attachment", "attachment"),
    (".", "attachment", "attachment"),
    ("/", "attachment", "attachment"),
    ("", "attachment", "attachment"),
    ("....", "attachment", "attachment"),
    ("../../etc/passwd", "passwd", "passwd"),
    ("C:\\Users\\zoe\\report.pdf", "report.pdf", "report.pdf"),
    ("in\x00voice.pdf", "in_voice.pdf", "in_voice.pdf"),
    ("CON", "CON", "attachment-CON"),
    ("nul.txt", "nul.txt", "attachment-nul.txt"),
    ("Rechnung März.pdf", "Rechnung März.pdf", "Rechnung_März.pdf"),
    ("a" * 300 + ".log", "a" * 196 + ".log", None),
])
def test_names_storage_would_refuse_are_renamed_and_the_file_kept(
        ticket: Item, agent_actor: Actor, given: str, shown: str, stored: str | None) -> None:
    message = add_message(ticket, kind="note", body="See file", attachments=[NewAttachment(name=given, content=b"ok")],
                          actor=agent_actor)
    attachment = message.attachments.get()
    assert attachment.name == shown
    file_name = Path(attachment.file.name).name
    if stored is not None:
        assert file_name.startswith(Path(stored).stem)  # storage may add a suffix to keep names unique
    assert len(file_name.encode()) <= 255  # a file name the file system accepts
    with attachment.file.open("rb") as handle:
        assert handle.read() == b"ok"
    assert Path(attachment.file.path).is_relative_to(Path(settings.DATA_DIR) / "attachments")
