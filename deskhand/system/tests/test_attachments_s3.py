"""Attachments in S3-compatible object storage (DESKHAND_STORAGE_URL=s3://…), against a local S3
server (moto's server mode) started here: every way a file comes in lands in the bucket, every
way it goes out reads from it, behind the same permission checks, and what deletes files
deletes the objects."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from storages.backends.s3 import S3Storage

from deskhand.accounts import services as accounts
from deskhand.accounts.inputs import Registration
from deskhand.config.services import update_settings
from deskhand.conftest import ApiClient
from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.storage import attachment_storage_settings
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw
from deskhand.mail.models import OutboundMessage
from deskhand.mail.outbound import build_mail
from deskhand.mail.services import create_mailbox
from deskhand.mail.tests.mails import make_mail
from deskhand.replies.inputs import Reply
from deskhand.replies.models import PastedImage
from deskhand.replies.services import paste_image, send_reply
from deskhand.testing.mail import last_link
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Attachment, Item, Message, MessageKind
from deskhand.work.models.messages import attachment_storage
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import NewAttachment, add_message

pytestmark = pytest.mark.django_db

ACCESS_KEY, SECRET_KEY = "deskhand-test", "s3cr3t/with+plus"
PREFIX = "deskhand/files"
# Above boto3's multipart threshold (8 MB): a large upload goes up in parts.
LARGE = 9 * 1024 * 1024 + 123
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40




@dataclass
class Bucket:
    client: Any
    name: str

    def objects(self) -> dict[str, bytes]:
        """Every object under Deskhand's prefix: its key (without the prefix) and its bytes."""
        listed = self.client.list_objects_v2(Bucket=self.name, Prefix=f"{PREFIX}/").get("Contents", [])
        return {entry["Key"].removeprefix(f"{PREFIX}/"): self.client.get_object(Bucket=self.name, Key=entry["Key"])[
            "Body"].read() for entry in listed}

    def object(self, attachment: Attachment | PastedImage) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=f"{PREFIX}/{attachment.file.name}")["Body"].read())


@pytest.fixture
def bucket(s3_endpoint: str, settings: Any, tmp_path: Path) -> Bucket:
    """A fresh bucket, and STORAGES["attachments"] pointed at it the way an operator would:
    through DESKHAND_STORAGE_URL (a percent-encoded secret, a prefix, a local endpoint)."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    name = f"deskhand-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    url = (f"s3://{ACCESS_KEY}:{quote(SECRET_KEY, safe='')}@{name}/{PREFIX}"
           f"?endpoint_url={quote(s3_endpoint, safe='')}&region=us-east-1&addressing_style=path")
    settings.STORAGES = {**settings.STORAGES, "attachments": attachment_storage_settings(url, location=tmp_path)}
    storage = attachment_storage()
    assert isinstance(storage, S3Storage) and storage.bucket_name == name
    return Bucket(client, name)


@pytest.fixture
def ticket(agent_actor: Actor) -> Item:
    return submit_ticket(ItemDraft(title="Printer on fire", requester_email="bob@acme.example"), actor=agent_actor)


def _upload(api: ApiClient, path: str, *files: tuple[str, bytes, str], body: str = "Files attached.") -> Any:
    uploads = [SimpleUploadedFile(name, content, content_type) for name, content, content_type in files]
    return api.client.post(f"/api/v1{path}", {"body": body, "files": uploads}, headers=api.headers)


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _portal_customer(email: str) -> Client:
    """A browser signed in to the portal as a registered, verified customer."""
    password = "quiet-harbour-41"
    registered = accounts.register(Registration(email=email, name=email.split("@")[0].title(), password=password))
    accounts.verify(last_link(email).rstrip("/").rsplit("/", 1)[1], mark=registered.mark)
    client = Client()
    assert client.post("/portal/login", {"email": email, "password": password}).status_code == 302
    return client


def test_an_api_upload_is_stored_in_the_bucket_and_downloaded_only_with_a_token(
        bucket: Bucket, api: ApiClient, ticket: Item) -> None:
    response = _upload(api, f"/tickets/{ticket.pk}/notes", ("error.log", b"line 1\nline 2\n", "text/plain"))
    assert response.status_code == 201, response.content
    [listed] = response.json()["attachments"]
    attachment = Attachment.objects.get(pk=listed["id"])
    assert bucket.objects() == {attachment.file.name: b"line 1\nline 2\n"}
    download = api.client.get(listed["url"], headers=api.headers)
    assert download.status_code == 200
    assert _body(download) == b"line 1\nline 2\n"
    assert download["Content-Length"] == "14" and download["Content-Type"] == "text/plain"
    assert download["Content-Disposition"] == 'attachment; filename="error.log"'
    assert Client().get(listed["url"]).status_code == 401


def test_a_large_file_goes_up_in_parts_and_comes_back_whole(bucket: Bucket, api: ApiClient, ticket: Item) -> None:
    content = bytes(range(256)) * (LARGE // 256) + b"tail"
    response = _upload(api, f"/tickets/{ticket.pk}/notes", ("dump.bin", content, "application/octet-stream"))
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(pk=response.json()["attachments"][0]["id"])
    assert attachment.size == len(content) and bucket.object(attachment) == content
    download = api.client.get(f"/api/v1/attachments/{attachment.pk}", headers=api.headers)
    assert download["Content-Length"] == str(len(content))
    chunks = list(download.streaming_content)
    assert b"".join(chunks) == content and max(len(chunk) for chunk in chunks) < 1024 * 1024


def test_a_stream_is_stored_from_where_it_stands(bucket: Bucket, ticket: Item, agent_actor: Actor) -> None:
    """What the services promise for a file they are handed (S3 uploads seek to 0 and read to the end)."""
    stream = io.BytesIO(b"MIME headers before the part|the part itself")
    stream.seek(len(b"MIME headers before the part|"))
    message = add_message(ticket, kind="note", body="x", actor=agent_actor,
                          attachments=[NewAttachment(name="part.txt", content=stream)])
    attachment = message.attachments.get()
    assert attachment.size == len(b"the part itself") and bucket.object(attachment) == b"the part itself"


def test_the_size_limit_and_blocked_types_hold_and_nothing_reaches_the_bucket(
        bucket: Bucket, api: ApiClient, ticket: Item) -> None:
    update_settings({"attachment_max_bytes": 100}, actor=SYSTEM)
    too_large = _upload(api, f"/tickets/{ticket.pk}/notes", ("ok.txt", b"x" * 10, "text/plain"),
                        ("big.bin", b"x" * 101, "application/octet-stream"))
    assert too_large.status_code == 422 and too_large.json()["field"] == "attachments"
    blocked = _upload(api, f"/tickets/{ticket.pk}/notes", ("setup.exe", b"MZ", "application/octet-stream"))
    assert blocked.status_code == 422
    assert bucket.objects() == {} and not Attachment.objects.exists()
    assert _upload(api, f"/tickets/{ticket.pk}/notes", ("fits.txt", b"x" * 100, "text/plain")).status_code == 201
    assert list(bucket.objects().values()) == [b"x" * 100]


def test_the_agents_app_downloads_from_the_bucket_for_signed_in_agents_only(
        bucket: Bucket, agent_client: Client, ticket: Item) -> None:
    posted = agent_client.post(f"/tickets/{ticket.pk}/reply", {
        "body": "The fix is attached.", "attachments": [SimpleUploadedFile("fix.sh", b"echo fixed\n", "text/x-sh")]})
    assert posted.status_code in (200, 302), posted.content.decode()[:500]
    attachment = Attachment.objects.get(message__item=ticket)
    assert bucket.object(attachment) == b"echo fixed\n"
    download = agent_client.get(f"/attachments/{attachment.pk}")
    assert download.status_code == 200 and _body(download) == b"echo fixed\n"
    assert download["Content-Disposition"] == 'attachment; filename="fix.sh"'
    signed_out = Client().get(f"/attachments/{attachment.pk}")
    assert signed_out.status_code == 302 and "/login" in signed_out["Location"]


def test_the_portal_stores_a_customers_file_and_shows_it_only_where_the_customer_may_look(bucket: Bucket) -> None:
    client, stranger = _portal_customer("zoe@acme.example"), _portal_customer("max@globex.example")
    response = client.post("/portal/requests/new", {
        "title": "Printer on fire", "description": "Photo attached.",
        "attachments": [SimpleUploadedFile("photo.jpg", b"\xff\xd8smoke", "image/jpeg")]})
    assert response.status_code == 302
    item = Item.objects.get(title="Printer on fire")
    attachment = Attachment.objects.get(message__item=item)
    assert bucket.object(attachment) == b"\xff\xd8smoke"
    add_message(item, kind=MessageKind.NOTE, body="Internal: vendor's log", actor=SYSTEM,
                attachments=[NewAttachment(name="vendor.log", content=b"internal")])
    note_file = Attachment.objects.get(message__kind=MessageKind.NOTE)
    own = client.get(f"/portal/requests/{item.pk}/files/{attachment.pk}")
    assert own.status_code == 200 and _body(own) == b"\xff\xd8smoke"
    assert client.get(f"/portal/requests/{item.pk}/files/{note_file.pk}").status_code == 404
    assert stranger.get(f"/portal/requests/{item.pk}/files/{attachment.pk}").status_code == 404


def test_an_inbound_mails_attachment_lands_in_the_bucket(bucket: Bucket) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    raw = make_mail(attachments=[("Rechnung März.pdf", b"%PDF-1.4 data", "application/pdf")])
    inbound = receive_raw(raw, transport="smtp", envelope_from="zoe@acme-corp.example", process=False)
    process_ids([inbound.pk])
    inbound.refresh_from_db()
    assert inbound.status == "processed", inbound.reason
    attachment = Message.objects.get(pk=inbound.message_id).attachments.get()
    assert attachment.name == "Rechnung März.pdf" and bucket.object(attachment) == b"%PDF-1.4 data"


def test_an_outbound_reply_carries_its_files_from_the_bucket(bucket: Bucket, ticket: Item, agent_actor: Actor) -> None:
    large = b"0123456789abcdef" * (3 * 1024 * 1024 // 16)  # past the read buffer: read back from a temporary file
    add_message(ticket, kind="reply", body="Fixed, see the log.", actor=agent_actor,
                attachments=[NewAttachment(name="fix.log", content=b"done\n", content_type="text/plain"),
                             NewAttachment(name="trace.bin", content=large)])
    assert sorted(bucket.objects().values(), key=len) == [b"done\n", large]
    mail = message_from_bytes(build_mail(OutboundMessage.objects.get()).as_bytes(), policy=policy.default)
    assert {part.get_filename(): part.get_content() for part in mail.iter_attachments()} == {
        "fix.log": "done\n", "trace.bin": large}


def test_a_pasted_image_goes_inline_from_the_bucket_and_its_own_object_is_deleted(
        bucket: Bucket, ticket: Item, agent: Any, agent_actor: Actor, agent_client: Client,
        django_capture_on_commit_callbacks: Any) -> None:
    image = paste_image(ticket, name="clipboard.png", content=PNG, actor=agent_actor)
    assert bucket.object(image) == PNG
    served = agent_client.get(f"/replies/images/{image.token}")
    assert served.status_code == 200 and _body(served) == PNG
    with django_capture_on_commit_callbacks(execute=True):
        message = send_reply(ticket, reply=Reply(body=f"Look: ![shot](/replies/images/{image.token})"),
                             actor=agent_actor)
    [attachment] = message.attachments.all()
    assert attachment.inline and bucket.objects() == {attachment.file.name: PNG}
    mail = build_mail(OutboundMessage.objects.get())
    assert [part.get_content() for part in mail.walk() if part.get("Content-ID")] == [PNG]


def test_files_of_a_failed_message_are_deleted_from_the_bucket(
        bucket: Bucket, ticket: Item, agent_actor: Actor, monkeypatch: Any) -> None:
    import deskhand.work.services.messages as messages

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(messages, "record_many", fail)
    with pytest.raises(RuntimeError):
        add_message(ticket, kind="note", body="x", actor=agent_actor,
                    attachments=[NewAttachment(name="lost.txt", content=b"a"), NewAttachment(name="lost.bin", content=PNG)])
    assert bucket.objects() == {} and not Attachment.objects.exists()


def test_an_object_missing_from_the_bucket_is_a_404_everywhere(
        bucket: Bucket, api: ApiClient, agent_client: Client, ticket: Item) -> None:
    message = add_message(ticket, kind="note", body="x", actor=SYSTEM,
                          attachments=[NewAttachment(name="gone.txt", content=b"gone")])
    attachment = message.attachments.get()
    bucket.client.delete_object(Bucket=bucket.name, Key=f"{PREFIX}/{attachment.file.name}")
    assert api.get(f"/attachments/{attachment.pk}").status_code == 404
    assert agent_client.get(f"/attachments/{attachment.pk}").status_code == 404
