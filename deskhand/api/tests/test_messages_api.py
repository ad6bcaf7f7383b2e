"""The conversation through the API: messages, replies (to the requester and customer followers,
through the outbox), internal notes, attachments as multipart uploads, downloads."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from deskhand.audit.models import AuditEvent
from deskhand.config.services import update_settings
from deskhand.conftest import ApiClient
from deskhand.core.actors import SYSTEM, Actor
from deskhand.mail.models import OutboundMessage
from deskhand.work.models import Attachment, Message
from deskhand.work.models.messages import attachment_storage
from deskhand.work.queries import get_item
from deskhand.work.services.messages import add_message

MESSAGE_KEYS = {"id", "kind", "channel", "author_email", "author_name", "body", "body_html", "full_body", "attachments",
                "recipients", "delivery", "created_at"}


@pytest.fixture
def ticket(api: ApiClient) -> Any:
    body = api.post("/tickets", {"title": "Printer on fire", "requester_email": "ana@acme.com",
                                 "followers": [{"type": "customer", "email": "bob@acme.com"}]}).json()
    return body


def _upload(api: ApiClient, path: str, body: str, *files: tuple[str, bytes, str]) -> Any:
    data: dict[str, Any] = {"body": body,
                            "files": [SimpleUploadedFile(name, content, content_type) for name, content, content_type
                                      in files]}
    return api.client.post(f"/api/v1{path}", data, headers=api.headers)


def _snapshot() -> tuple[int, ...]:
    return (Message.objects.count(), Attachment.objects.count(), OutboundMessage.objects.count(),
            AuditEvent.objects.count())


def _stored_names() -> set[str]:
    root = attachment_storage().path("")
    return {name for _dir, _dirs, names in os.walk(root) for name in names}


def test_reply_goes_to_the_requester_and_customer_followers(api: ApiClient, ticket: Any) -> None:
    response = api.post(f"/tickets/{ticket['id']}/replies", {"body": "We are on it."})
    assert response.status_code == 201, response.content
    reply = response.json()
    assert set(reply) == MESSAGE_KEYS
    assert (reply["kind"], reply["body"], reply["author_email"]) == ("reply", "We are on it.", "admin@deskhand.test")
    assert reply["recipients"] == ["ana@acme.com", "bob@acme.com"] and reply["attachments"] == []
    outbound = OutboundMessage.objects.get()
    assert outbound.to == ["ana@acme.com", "bob@acme.com"] and outbound.message_id == reply["id"]
    event = api.get(f"/tickets/{ticket['id']}/events").json()["items"][-1]
    assert event["action"] == "message.reply" and event["detail"]["to"] == reply["recipients"]


def test_a_reply_with_cc_and_bcc(api: ApiClient, ticket: Any) -> None:
    response = api.post(f"/tickets/{ticket['id']}/replies", {"body": "Copying your manager.",
                                                             "cc": ["Carl@Acme.com"], "bcc": ["audit@acme.com"]})
    assert response.status_code == 201, response.content
    outbound = OutboundMessage.objects.get()
    from deskhand.mail.outbound import build_mail, envelope_recipients

    assert [a.lower() for a in envelope_recipients(outbound)][2:] == ["carl@acme.com", "audit@acme.com"]
    mail = build_mail(outbound)
    assert "carl@acme.com" in str(mail["Cc"]).lower() and "audit@acme.com" not in mail.as_string()


@pytest.mark.parametrize(("body", "field"), [
    ({"body": "x", "cc": ["not an address"]}, "cc"),
    ({"body": "x", "bcc": [f"a{n}@b.example" for n in range(11)]}, "bcc"),
    ({"body": "x", "cc": "carl@acme.com"}, "cc"),
])
def test_bad_copies_are_422s_and_send_nothing(api: ApiClient, ticket: Any, body: dict[str, Any], field: str) -> None:
    response = api.post(f"/tickets/{ticket['id']}/replies", body)
    assert response.status_code == 422 and response.json()["field"] == field, response.content
    assert not OutboundMessage.objects.exists()


def test_a_note_has_no_copies(api: ApiClient, ticket: Any) -> None:
    response = api.post(f"/tickets/{ticket['id']}/notes", {"body": "x", "cc": ["carl@acme.com"]})
    assert response.status_code == 422 and response.json()["field"] == "cc"


def test_a_note_stays_inside_the_team(api: ApiClient, ticket: Any) -> None:
    response = api.post(f"/tickets/{ticket['id']}/notes", {"body": "Call the vendor."})
    assert response.status_code == 201
    assert response.json()["kind"] == "note" and response.json()["recipients"] == []
    assert not OutboundMessage.objects.exists()


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_json_sent_with_another_content_type_is_read_as_json(api: ApiClient, ticket: Any,
                                                             content_type: str) -> None:
    """What `curl -d '{"body": …}'` sends."""
    response = api.client.post(f"/api/v1/tickets/{ticket['id']}/replies", '{"body": "On it."}',
                               content_type=content_type, headers=api.headers)
    assert response.status_code == 201 and response.json()["body"] == "On it."


def test_a_plain_form_works_too(api: ApiClient, ticket: Any) -> None:
    response = api.client.post(f"/api/v1/tickets/{ticket['id']}/notes", "body=From+a+form",
                               content_type="application/x-www-form-urlencoded", headers=api.headers)
    assert response.status_code == 201 and response.json()["body"] == "From a form"


def test_messages_list_the_whole_conversation_in_order(api: ApiClient, ticket: Any) -> None:
    item = get_item(ticket["id"])
    add_message(item, kind="customer", body="It is still burning.", actor=Actor.customer("ana@acme.com"))
    api.post(f"/tickets/{ticket['id']}/replies", {"body": "Stand back."})
    api.post(f"/tickets/{ticket['id']}/notes", {"body": "Fire brigade called."})
    listing = api.get(f"/tickets/{ticket['id']}/messages").json()
    assert listing["count"] == 3
    assert [(m["kind"], m["author_email"], m["body"]) for m in listing["items"]] == [
        ("customer", "ana@acme.com", "It is still burning."),
        ("reply", "admin@deskhand.test", "Stand back."),
        ("note", "admin@deskhand.test", "Fire brigade called."),
    ]
    assert set(listing["items"][0]) == MESSAGE_KEYS
    assert api.get(f"/tickets/{ticket['id']}/messages", {"page": 2, "page_size": 2}).json()["count"] == 3


def test_multipart_upload_and_download(api: ApiClient, ticket: Any) -> None:
    response = _upload(api, f"/tickets/{ticket['id']}/replies", "Logs attached.",
                       ("error.log", b"line 1\nline 2\n", "text/plain"), ("photo.png", b"\x89PNG fake", "image/png"))
    assert response.status_code == 201, response.content
    reply = response.json()
    assert reply["body"] == "Logs attached."
    assert [(a["name"], a["content_type"], a["size"]) for a in reply["attachments"]] == [
        ("error.log", "text/plain", 14), ("photo.png", "image/png", 9)]
    assert OutboundMessage.objects.get().headers["attachments"][0]["name"] == "error.log"
    listed = api.get(f"/tickets/{ticket['id']}/messages").json()["items"][0]["attachments"]
    assert listed == reply["attachments"]
    download = api.client.get(listed[0]["url"], headers=api.headers)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"line 1\nline 2\n"
    assert download["Content-Type"] == "text/plain"
    assert download["Content-Disposition"] == 'attachment; filename="error.log"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert listed[0]["url"] == f"/api/v1/attachments/{listed[0]['id']}"


def test_a_note_with_only_files(api: ApiClient, ticket: Any) -> None:
    response = _upload(api, f"/tickets/{ticket['id']}/notes", "", ("report.csv", b"a,b\n1,2\n", "text/csv"))
    assert response.status_code == 201, response.content
    assert response.json()["body"] == "" and response.json()["attachments"][0]["name"] == "report.csv"


def test_an_attachment_over_the_limit_is_a_422_and_writes_nothing(api: ApiClient, ticket: Any) -> None:
    update_settings({"attachment_max_bytes": 100}, actor=SYSTEM)
    name = f"big-{uuid.uuid4().hex}"
    before = _snapshot()
    response = _upload(api, f"/tickets/{ticket['id']}/replies", "Big one.", (f"{name}-ok.txt", b"x" * 10, "text/plain"),
                       (f"{name}.bin", b"x" * 101, "application/octet-stream"))
    assert response.status_code == 422, response.content
    assert response.json()["field"] == "attachments" and response.json()["detail"]
    assert _snapshot() == before
    assert not any(stored.startswith(name) for stored in _stored_names())
    exactly = _upload(api, f"/tickets/{ticket['id']}/replies", "Fits.", (f"{name}.txt", b"x" * 100, "text/plain"))
    assert exactly.status_code == 201


@pytest.mark.parametrize("filename", ["setup.exe", "SETUP.EXE", "run.ps1", "x/y/evil.bat"])
def test_a_blocked_type_is_a_422_and_writes_nothing(api: ApiClient, ticket: Any, filename: str) -> None:
    before = _snapshot()
    response = _upload(api, f"/tickets/{ticket['id']}/notes", "Run this.", (filename, b"MZ", "application/x-msdownload"))
    assert response.status_code == 422 and response.json()["field"] == "attachments"
    assert _snapshot() == before


def test_blocked_types_follow_the_setting(api: ApiClient, ticket: Any) -> None:
    response = api.patch("/settings", {"blocked_attachment_extensions": [".ZIP"], "attachment_max_bytes": 1000})
    assert response.status_code == 200, response.content
    assert response.json()["blocked_attachment_extensions"] == ["zip"]
    assert _upload(api, f"/tickets/{ticket['id']}/notes", "", ("a.zip", b"PK", "application/zip")).status_code == 422
    assert _upload(api, f"/tickets/{ticket['id']}/notes", "", ("a.exe", b"MZ", "")).status_code == 201
    bad = api.patch("/settings", {"attachment_max_bytes": 0})
    assert bad.status_code == 422 and bad.json()["field"] == "attachment_max_bytes"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"body": ""}, "body"), ({"body": "   "}, "body"), ({}, "body"), ({"body": 5}, "body"),
     ({"body": None}, "body"), ({"body": "x" * 200_001}, "body"), ({"body": "nul \x00"}, "body")],
)
def test_bad_json_bodies(api: ApiClient, ticket: Any, body: dict[str, Any], field: str) -> None:
    before = _snapshot()
    for kind in ("replies", "notes"):
        response = api.post(f"/tickets/{ticket['id']}/{kind}", body)
        assert response.status_code == 422, response.content
        assert response.json()["field"] == field
    assert _snapshot() == before


def test_unreadable_bodies_are_422s(api: ApiClient, ticket: Any) -> None:
    path = f"/api/v1/tickets/{ticket['id']}/replies"
    broken = api.client.post(path, "{not json", content_type="application/json", headers=api.headers)
    assert broken.status_code == 422 and broken.json()["field"] is None
    not_an_object = api.post(f"/tickets/{ticket['id']}/replies", ["x"])
    assert not_an_object.status_code == 422
    multipart = api.client.post(path, b"--x\r\nbroken", content_type="multipart/form-data; boundary=x",
                                headers=api.headers)
    assert multipart.status_code == 422
    assert not Message.objects.exists()


def test_unknown_items_and_attachments_are_404(api: ApiClient) -> None:
    assert api.get("/tickets/999999/messages").status_code == 404
    assert api.post("/tickets/999999/replies", {"body": "x"}).status_code == 404
    assert api.post("/tasks/999999/notes", {"body": "x"}).status_code == 404
    assert api.get("/attachments/999999").status_code == 404


def test_an_attachment_without_its_file_is_a_404(api: ApiClient, ticket: Any) -> None:
    response = _upload(api, f"/tickets/{ticket['id']}/notes", "x", ("a.txt", b"a", "text/plain"),
                       ("b.txt", b"b", "text/plain"))
    first, second = (Attachment.objects.get(pk=a["id"]) for a in response.json()["attachments"])
    # The stored file is gone (a restore without the data directory, say)…
    first.file.storage.delete(first.file.name)
    # …or the row never had one.
    Attachment.objects.filter(pk=second.pk).update(file="")
    for attachment in (first, second):
        download = api.get(f"/attachments/{attachment.pk}")
        assert download.status_code == 404 and "is missing" in download.json()["detail"]


def test_a_token_is_required(api: ApiClient, ticket: Any) -> None:
    response = _upload(api, f"/tickets/{ticket['id']}/notes", "x", ("a.txt", b"a", "text/plain"))
    url = response.json()["attachments"][0]["url"]
    assert Client().get(url).status_code == 401
    assert Client().get(f"/api/v1/tickets/{ticket['id']}/messages").status_code == 401
    assert Client().post(f"/api/v1/tickets/{ticket['id']}/replies", {"body": "x"},
                         content_type="application/json").status_code == 401


def test_notes_and_replies_on_tasks(api: ApiClient) -> None:
    task = api.post("/tasks", {"title": "Renew certificate"}).json()
    assert api.post(f"/tasks/{task['id']}/notes", {"body": "Expires Friday."}).status_code == 201
    # A task without a requester: the reply is recorded, and nobody is mailed.
    reply = api.post(f"/tasks/{task['id']}/replies", {"body": "Done."})
    assert reply.status_code == 201 and reply.json()["recipients"] == []
    assert not OutboundMessage.objects.exists()
    assert [m["kind"] for m in api.get(f"/tasks/{task['id']}/messages").json()["items"]] == ["note", "reply"]


def test_messages_query_count_does_not_grow_with_the_conversation(api: ApiClient, ticket: Any) -> None:
    item = get_item(ticket["id"])

    def messages_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"/tickets/{ticket['id']}/messages")
        assert response.status_code == 200
        return len(queries)

    def make(count: int) -> None:
        for n in range(count):
            add_message(item, kind="customer", body=f"Customer {n}", actor=Actor.customer("ana@acme.com"))
            _upload(api, f"/tickets/{ticket['id']}/notes", f"Note {n}", (f"n{n}.txt", b"n", "text/plain"))

    make(2)
    small = messages_queries()
    make(10)
    assert api.get(f"/tickets/{ticket['id']}/messages").json()["count"] == 24
    assert messages_queries() <= small <= 10
