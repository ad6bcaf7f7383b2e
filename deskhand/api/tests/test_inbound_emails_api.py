"""POST /inbound-emails (raw MIME for an MTA pipe or a provider's webhook), the inbound log,
retry, and the never-follow list."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from deskhand.conftest import ApiClient
from deskhand.core.actors import SYSTEM
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.tasks import process_pending
from deskhand.mail.models import InboundEmail
from deskhand.mail.services import create_mailbox
from deskhand.mail.tests.mails import make_mail
from deskhand.work.models import Item

pytestmark = pytest.mark.django_db


def post_raw(api: ApiClient, raw: bytes, content_type: str = "message/rfc822", path: str = "/inbound-emails") -> Any:
    return api.client.post(f"/api/v1{path}", raw, content_type=content_type, headers=api.headers)


def test_raw_mime_is_stored_answers_202_and_becomes_a_ticket(api: ApiClient) -> None:
    response = post_raw(api, make_mail(subject="Webhook mail", message_id="<w1@acme-corp.example>"))
    assert response.status_code == 202
    process_pending.call()
    body = response.json()
    assert body["status"] == "received" and isinstance(body["id"], int)
    listed = api.get("/inbound-emails", {"status": "processed"}).json()
    [row] = listed["items"]
    assert row["id"] == body["id"] and row["from"] == "zoe@acme-corp.example"
    assert row["message_id"] == "<w1@acme-corp.example>" and row["subject"] == "Webhook mail"
    assert row["item"] == Item.objects.get().pk and row["reason"] == "" and row["status"] == "processed"
    assert set(row) >= {"id", "status", "reason", "message_id", "from", "subject", "mailbox", "item", "received_at"}


def test_the_endpoint_needs_a_token_and_a_body(api: ApiClient) -> None:
    anonymous = Client().post("/api/v1/inbound-emails", make_mail(), content_type="message/rfc822")
    assert anonymous.status_code == 401
    empty = post_raw(api, b"")
    assert empty.status_code == 422 and empty.json()["field"] == "body"
    wrong = post_raw(api, b'{"a": 1}', content_type="application/json")
    assert wrong.status_code == 422 and wrong.json()["field"] == "content_type"
    assert not InboundEmail.objects.exists()


def test_garbage_is_kept_as_failed_not_a_500(api: ApiClient) -> None:
    response = post_raw(api, b"\x00\xff\xfe garbage without headers \x00")
    assert response.status_code == 202
    process_pending.call()
    row = api.get(f"/inbound-emails/{response.json()['id']}").json()
    assert row["status"] == "failed" and "no sender" in row["reason"]


def test_filter_by_status_and_retry(api: ApiClient) -> None:
    robot = post_raw(api, make_mail(headers={"Auto-Submitted": "auto-replied"})).json()
    broken = post_raw(api, make_mail(sender="")).json()
    process_pending.call()
    ignored = api.get("/inbound-emails", {"status": "ignored"}).json()["items"]
    assert [row["id"] for row in ignored] == [robot["id"]]
    assert "Auto-Submitted" in ignored[0]["reason"]
    failed = api.get("/inbound-emails", {"status": "failed"}).json()["items"]
    assert [row["id"] for row in failed] == [broken["id"]]
    assert api.get("/inbound-emails", {"status": "lost"}).status_code == 422
    retried = api.post(f"/inbound-emails/{broken['id']}/retry")
    assert retried.status_code == 202 and retried.json()["status"] == "received"
    process_pending.call()
    assert api.get(f"/inbound-emails/{broken['id']}").json()["attempts"] == 2


def test_a_processed_mail_cannot_be_retried(api: ApiClient) -> None:
    inbound = post_raw(api, make_mail()).json()
    process_ids([inbound["id"]])
    response = api.post(f"/inbound-emails/{inbound['id']}/retry")
    assert response.status_code == 409
    assert api.post("/inbound-emails/999999/retry").status_code == 404


def test_ticket_addresses_are_data(api: ApiClient, agent_api: ApiClient) -> None:
    created = api.post("/mailboxes", {"address": "Help@Deskhand.test", "name": "Help desk"})
    assert created.status_code == 201
    mailbox = created.json()
    assert mailbox["address"] == "Help@deskhand.test" and mailbox["imap"] is None
    assert api.post("/mailboxes", {"address": "help@deskhand.TEST"}).status_code == 409
    bad = api.post("/mailboxes", {"address": "not an address"})
    assert bad.status_code == 422 and bad.json()["field"] == "address"
    assert agent_api.post("/mailboxes", {"address": "x@deskhand.test"}).status_code == 403
    renamed = api.patch(f"/mailboxes/{mailbox['id']}", {"address": "helpdesk@deskhand.test"})
    assert renamed.status_code == 200 and renamed.json()["address"] == "helpdesk@deskhand.test"
    never = [row["address"] for row in api.get("/never-follow").json()["items"]]
    assert never == ["helpdesk@deskhand.test"]
    assert api.get("/mailboxes").json()["count"] == 1
    assert api.delete(f"/mailboxes/{mailbox['id']}").status_code == 204
    assert api.get("/never-follow").json()["count"] == 0
    assert api.get(f"/mailboxes/{mailbox['id']}").status_code == 404


def test_mail_to_a_ticket_address_is_filed_under_it(api: ApiClient) -> None:
    mailbox = create_mailbox(address="billing@deskhand.test", actor=SYSTEM)
    inbound = post_raw(api, make_mail(to="Billing <billing@deskhand.test>")).json()
    process_ids([inbound["id"]])
    assert api.get(f"/inbound-emails/{inbound['id']}").json()["mailbox"] == mailbox.pk


def test_never_follow_list(api: ApiClient, agent_api: ApiClient) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    added = api.post("/never-follow", {"address": "noreply@vendor.example"})
    assert added.status_code == 201
    assert api.post("/never-follow", {"address": "NOREPLY@vendor.example"}).status_code == 409
    assert api.post("/never-follow", {"address": ""}).status_code == 422
    assert agent_api.post("/never-follow", {"address": "a@b.example"}).status_code == 403
    rows = api.get("/never-follow").json()["items"]
    assert [row["address"] for row in rows] == ["noreply@vendor.example", "support@deskhand.test"]
    ticket_address = next(row for row in rows if row["mailbox"])
    assert api.delete(f"/never-follow/{ticket_address['id']}").status_code == 409
    assert api.delete("/never-follow?address=noreply@vendor.example").status_code == 204
    assert api.delete("/never-follow?address=noreply@vendor.example").status_code == 404
    assert [row["address"] for row in api.get("/never-follow").json()["items"]] == ["support@deskhand.test"]


def test_a_mail_larger_than_a_form_upload_is_taken(api: ApiClient) -> None:
    raw = make_mail(attachments=[("scan.pdf", b"%PDF" + b"x" * 4_000_000, "application/pdf")])
    response = post_raw(api, raw)
    assert response.status_code == 202
    assert InboundEmail.objects.get().size == len(raw)


def test_a_mail_ticket_s_messages_show_html_full_text_and_reply_delivery(api: ApiClient) -> None:
    inbound = post_raw(api, make_mail(body="New part.\n\nOn Monday, Bob wrote:\n> old part",
                                      html="<p>New part.</p><script>x()</script>")).json()
    process_ids([inbound["id"]])
    item_id = api.get(f"/inbound-emails/{inbound['id']}").json()["item"]
    reply = api.post(f"/tickets/{item_id}/replies", {"body": "Thanks, on it."})
    assert reply.status_code == 201
    first, answer = api.get(f"/tickets/{item_id}/messages").json()["items"]
    assert first["channel"] == "email" and first["body"] == "New part."
    assert "> old part" in first["full_body"]
    assert first["body_html"].strip() == "<p>New part.</p>"
    assert [row["kind"] for row in first["delivery"]] == ["acknowledgement"]
    [delivery] = answer["delivery"]
    assert delivery["kind"] == "reply"
    assert delivery["to"] == ["zoe@acme-corp.example"] and delivery["status"] == "queued"
