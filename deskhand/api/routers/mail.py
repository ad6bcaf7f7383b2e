"""Mail: the raw-MIME inbound endpoint, the inbound log with retry, ticket addresses (and IMAP
accounts), and the never-add-as-follower list."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from deskhand.api.auth import actor_of, require_admin
from deskhand.api.pagination import ListParams, paginate
from deskhand.api.schemas import (
    AddressIn,
    ConnectionTestOut,
    InboundAccepted,
    InboundListOut,
    InboundOut,
    MailboxIn,
    MailboxListOut,
    MailboxOut,
    MailboxPatch,
    NeverFollowListOut,
    NeverFollowOut,
)
from deskhand.core.errors import Invalid, NotFound
from deskhand.ingest.imap import test_connection
from deskhand.ingest.receive import MAX_RAW_BYTES, receive_raw, retry
from deskhand.mail import queries, services
from deskhand.mail.models import InboundEmail, Mailbox, NeverFollow, Transport

router = Router()

RFC822_TYPES = ("message/rfc822", "application/octet-stream", "text/plain")


class InboundParams(ListParams):
    status: str = Field("", max_length=20)


@router.post("/inbound-emails", response={202: InboundAccepted}, tags=["mail"])
def post_inbound_email(request: HttpRequest) -> Status[dict[str, Any]]:
    """Raw MIME in the body (`Content-Type: message/rfc822`), from an MTA pipe or a provider's
    inbound webhook. Answers 202 once the mail is stored; processing follows."""
    content_type = (request.content_type or "").lower()
    if content_type and content_type not in RFC822_TYPES:
        raise Invalid("unsupported_content_type", "Send the raw mail with Content-Type: message/rfc822.",
                      field="content_type")
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > MAX_RAW_BYTES:
        raise Invalid("mail_too_large", f"A mail has at most {MAX_RAW_BYTES // (1024 * 1024)} MB.", field="body")
    # Read the stream, not request.body: a mail may be far larger than a form's memory limit.
    raw = request.read(MAX_RAW_BYTES + 1)
    inbound = receive_raw(raw, transport=Transport.HTTP,
                          envelope_to=[value for value in request.GET.getlist("to") if value][:100])
    return Status(202, {"id": inbound.pk, "status": inbound.status})


@router.get("/inbound-emails", response=InboundListOut, by_alias=True, tags=["mail"])
def list_inbound_emails(request: HttpRequest, params: Query[InboundParams]) -> dict[str, Any]:
    require_admin(request)
    return paginate(queries.inbound_list(status=params.status or None), params)


@router.get("/inbound-emails/{id:inbound_id}", response=InboundOut, by_alias=True, tags=["mail"])
def get_inbound_email(request: HttpRequest, inbound_id: int) -> InboundEmail:
    require_admin(request)
    return queries.get_inbound(inbound_id)


@router.post("/inbound-emails/{id:inbound_id}/retry", response={202: InboundOut}, by_alias=True, tags=["mail"])
def retry_inbound_email(request: HttpRequest, inbound_id: int) -> Status[InboundEmail]:
    require_admin(request)
    inbound = retry(queries.get_inbound(inbound_id), actor=actor_of(request))
    return Status(202, queries.get_inbound(inbound.pk))


# -- ticket addresses -----------------------------------------------------------------------------


@router.get("/mailboxes", response=MailboxListOut, tags=["mail"])
def list_mailboxes(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    require_admin(request)
    return paginate(queries.mailbox_list(), params)


@router.post("/mailboxes", response={201: MailboxOut}, tags=["mail"])
def create_mailbox(request: HttpRequest, payload: MailboxIn) -> Status[Mailbox]:
    imap = None if payload.imap is None else payload.imap.to_input()
    mailbox = services.create_mailbox(address=payload.address, name=payload.name, imap=imap, actor=actor_of(request))
    return Status(201, mailbox)


@router.get("/mailboxes/{id:mailbox_id}", response=MailboxOut, tags=["mail"])
def get_mailbox(request: HttpRequest, mailbox_id: int) -> Mailbox:
    require_admin(request)
    return queries.get_mailbox(mailbox_id)


@router.patch("/mailboxes/{id:mailbox_id}", response=MailboxOut, tags=["mail"])
def update_mailbox(request: HttpRequest, mailbox_id: int, payload: MailboxPatch) -> Mailbox:
    mailbox = services.update_mailbox(queries.get_mailbox(mailbox_id), changes=payload.to_changes(),
                                      actor=actor_of(request))
    return mailbox


@router.delete("/mailboxes/{id:mailbox_id}", response={204: None}, tags=["mail"])
def delete_mailbox(request: HttpRequest, mailbox_id: int) -> Status[None]:
    services.delete_mailbox(queries.get_mailbox(mailbox_id), actor=actor_of(request))
    return Status(204, None)


@router.post("/mailboxes/{id:mailbox_id}/test", response=ConnectionTestOut, tags=["mail"])
def test_mailbox(request: HttpRequest, mailbox_id: int) -> dict[str, Any]:
    """Log in to the IMAP account and open its folder; says what went wrong if it did."""
    require_admin(request)
    mailbox = queries.get_mailbox(mailbox_id)
    if not mailbox.is_imap:
        raise Invalid("not_imap", "This ticket address has no IMAP account to test.", field="imap")
    ok, message = test_connection(mailbox)
    return {"ok": ok, "message": message}


# -- never add as follower ------------------------------------------------------------------------


class NeverFollowDeleteParams(Schema):
    address: str = Field("", max_length=254)


@router.get("/never-follow", response=NeverFollowListOut, tags=["mail"])
def list_never_follow(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    require_admin(request)
    return paginate(queries.never_follow_list(), params)


@router.post("/never-follow", response={201: NeverFollowOut}, tags=["mail"])
def add_never_follow(request: HttpRequest, payload: AddressIn) -> Status[NeverFollow]:
    entry = services.add_never_follow(address=payload.address, actor=actor_of(request))
    return Status(201, entry)


@router.delete("/never-follow", response={204: None}, tags=["mail"])
def remove_never_follow_by_address(request: HttpRequest, params: Query[NeverFollowDeleteParams]) -> Status[None]:
    """`DELETE /never-follow?address=x@example.com` (or `/never-follow/{id}`)."""
    require_admin(request)
    entry = queries.never_follow_list().filter(address__iexact=params.address.strip()).first()
    if entry is None:
        raise NotFound("never_follow_not_found", "That address is not on the list.")
    services.remove_never_follow(entry, actor=actor_of(request))
    return Status(204, None)


@router.delete("/never-follow/{id:entry_id}", response={204: None}, tags=["mail"])
def remove_never_follow(request: HttpRequest, entry_id: int) -> Status[None]:
    services.remove_never_follow(queries.get_never_follow(entry_id), actor=actor_of(request))
    return Status(204, None)
