"""Tickets and tasks: lists, create, read, change, bulk change; their conversation (messages,
replies, notes, attachments) and their history. Both kinds share one set of routes."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import SuspiciousOperation, TooManyFilesSent
from django.http import FileResponse, HttpRequest
from django.http.multipartparser import MultiPartParserError
from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from deskhand.api.auth import actor_of
from deskhand.api.lookups import id_filter
from deskhand.api.pagination import MAX_PAGE_SIZE, ListParams, paginate
from deskhand.api.schemas import (
    BulkChangeIn,
    BulkChangeOut,
    EventListOut,
    ItemIn,
    ItemListOut,
    ItemOut,
    ItemPatch,
    MessageIn,
    MessageListOut,
    MessageOut,
    TaskFromTicketIn,
)
from deskhand.core.errors import Invalid, NotFound
from deskhand.work import queries
from deskhand.work.files import open_stored
from deskhand.work.models import Channel, Item, Kind, Message, MessageKind
from deskhand.work.services.items import bulk_change, change_item, create_task, create_task_from, submit_ticket
from deskhand.work.services.messages import NewAttachment, add_message

router = Router()

PLURALS = {Kind.TICKET: "tickets", Kind.TASK: "tasks"}
# One conversation entry can be sent as JSON, or as multipart/form-data to upload files.
MESSAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "required": ["body"], "properties": {
                "body": {"type": "string"},
                "cc": {"type": "array", "items": {"type": "string", "format": "email"}, "maxItems": 10},
                "bcc": {"type": "array", "items": {"type": "string", "format": "email"}, "maxItems": 10}}}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "body": {"type": "string"},
                "cc": {"type": "array", "items": {"type": "string"}},
                "bcc": {"type": "array", "items": {"type": "string"}},
                "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
            }}},
        },
    },
}


class ItemListParams(ListParams):
    status: str = Field("", description="Status keys (comma-separated) or category:<new|open|pending|done>.")
    priority: str = Field("", description="low, normal, high, urgent (comma-separated).")
    assignee: str = Field("", description="An agent id, team:<id> or none.")
    organization: str = Field("", description="An organization id or none.")
    requester: str = Field("", description="A customer id.")
    project: str = Field("", description="A project id or none.")
    folder: str = Field("", description="A folder id or none.")
    sla: str = Field("", description="breached, at_risk, paused, running, met or none.")
    sort: str = Field("-id", description="id, updated_at, title, priority or status; a leading - for descending.")


class PageParams(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


ID_FILTERS = ("assignee", "organization", "requester", "project", "folder")


def _filters(params: ItemListParams) -> queries.ItemFilters:
    values = params.model_dump(exclude={"page", "page_size", "sort"})
    for name in ID_FILTERS:
        id_filter(values[name], field=name)
    # Ids, keys and "none" are case-free; only the search text keeps its case.
    return queries.ItemFilters.from_mapping(
        {name: value if name == "search" else value.lower() for name, value in values.items()})


def _page(queryset: Any, params: PageParams) -> dict[str, Any]:
    return paginate(queryset, ListParams(page=params.page, page_size=params.page_size))


def _message_input(request: HttpRequest) -> tuple[Any, list[NewAttachment], list[str], list[str]]:
    """`{"body", "cc", "bcc"}` as JSON, or multipart/form-data with `body`, any number of `files` and
    of `cc` / `bcc`. A JSON body
    sent as a form (curl -d without a Content-Type) is read as JSON, as every other route reads it."""
    if request.content_type == "multipart/form-data" or (
            request.content_type == "application/x-www-form-urlencoded" and "body" in request.POST):
        try:
            uploads = request.FILES.getlist("files") + request.FILES.getlist("file")
        except TooManyFilesSent:
            raise Invalid("too_many_attachments", "Too many files in one request.", field="attachments") from None
        except (MultiPartParserError, SuspiciousOperation) as exc:
            raise Invalid("invalid_form", f"The form data could not be read: {exc}", field=None) from None
        files = [NewAttachment(name=upload.name or "", content=upload, content_type=upload.content_type or "")
                 for upload in uploads]
        return (request.POST.get("body", ""), files, request.POST.getlist("cc")[:50],
                request.POST.getlist("bcc")[:50])
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        raise Invalid("invalid_json", "The request body is not valid JSON.", field=None) from None
    try:
        payload = MessageIn.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError([{**error, "loc": ("body", "payload", *error["loc"])}
                               for error in exc.errors(include_url=False, include_context=False)]) from None
    return payload.body, [], payload.cc, payload.bcc


def _add_routes(kind: str) -> None:
    """The routes of one kind: /tickets... or /tasks...; an id of the other kind is a 404."""
    plural = PLURALS[Kind(kind)]
    create = submit_ticket if kind == Kind.TICKET else create_task

    @router.get(f"/{plural}", response=ItemListOut, tags=[plural], operation_id=f"list_{plural}",
                summary=f"List {plural}")
    def list_items(request: HttpRequest, params: Query[ItemListParams]) -> dict[str, Any]:
        filters = _filters(params)
        items = queries.item_list(kind, filters, sort=params.sort, names=False)
        return paginate(items, params,
                        count=queries.item_count(kind, filters, items))

    @router.post(f"/{plural}", response={201: ItemOut}, tags=[plural], operation_id=f"create_{kind}",
                 summary=f"Create a {kind}")
    def create_item(request: HttpRequest, payload: ItemIn) -> Status[Item]:
        item = create(payload.to_draft(), channel=Channel.API, actor=actor_of(request))
        return Status(201, queries.get_item(item.pk, kind=kind))

    @router.post(f"/{plural}/bulk-change", response=BulkChangeOut, tags=[plural],
                 operation_id=f"bulk_change_{plural}", summary=f"Change many {plural} at once")
    def bulk_change_items(request: HttpRequest, payload: BulkChangeIn) -> dict[str, Any]:
        changes = payload.changes.to_changes()
        items: list[Item] = []
        for item_id in dict.fromkeys(payload.items):
            try:
                items.append(queries.get_item(item_id, kind=kind))
            except NotFound as exc:
                raise Invalid(f"unknown_{kind}", exc.message, field="items") from None
        return {"changed": bulk_change(items, changes=changes, actor=actor_of(request))}

    @router.get(f"/{plural}/{{id:item_id}}", response=ItemOut, tags=[plural], operation_id=f"get_{kind}",
                summary=f"Get a {kind}")
    def get_item(request: HttpRequest, item_id: int) -> Item:
        return queries.get_item(item_id, kind=kind)

    @router.patch(f"/{plural}/{{id:item_id}}", response=ItemOut, tags=[plural], operation_id=f"update_{kind}",
                  summary=f"Change a {kind}")
    def update_item(request: HttpRequest, item_id: int, payload: ItemPatch) -> Item:
        item = queries.get_item(item_id, kind=kind)
        change_item(item, changes=payload.to_changes(), actor=actor_of(request))
        return queries.get_item(item_id, kind=kind)

    @router.get(f"/{plural}/{{id:item_id}}/messages", response=MessageListOut, tags=[plural],
                operation_id=f"list_{kind}_messages", summary=f"The {kind}'s conversation, oldest first")
    def list_messages(request: HttpRequest, item_id: int, params: Query[PageParams]) -> dict[str, Any]:
        item = queries.get_item(item_id, kind=kind)
        return _page(queries.conversation(item).prefetch_related("outbound"), params)

    def post_message(request: HttpRequest, item_id: int, message_kind: str) -> Status[Message]:
        item = queries.get_item(item_id, kind=kind)
        body, files, cc, bcc = _message_input(request)
        message = add_message(item, kind=message_kind, body=body, attachments=files, channel=Channel.API,
                              cc=cc, bcc=bcc, actor=actor_of(request))
        return Status(201, message)

    @router.post(f"/{plural}/{{id:item_id}}/replies", response={201: MessageOut}, tags=[plural],
                 operation_id=f"reply_to_{kind}", openapi_extra=MESSAGE_BODY,
                 summary="Reply to the requester and the customer followers")
    def reply(request: HttpRequest, item_id: int) -> Status[Message]:
        return post_message(request, item_id, MessageKind.REPLY)

    @router.post(f"/{plural}/{{id:item_id}}/notes", response={201: MessageOut}, tags=[plural],
                 operation_id=f"add_{kind}_note", openapi_extra=MESSAGE_BODY, summary="Add an internal note")
    def note(request: HttpRequest, item_id: int) -> Status[Message]:
        return post_message(request, item_id, MessageKind.NOTE)

    @router.get(f"/{plural}/{{id:item_id}}/events", response=EventListOut, tags=[plural],
                operation_id=f"list_{kind}_events", summary=f"The {kind}'s history, oldest first")
    def list_events(request: HttpRequest, item_id: int, params: Query[PageParams]) -> dict[str, Any]:
        item = queries.get_item(item_id, kind=kind)
        return _page(queries.item_events(item), params)


_add_routes(Kind.TICKET)
_add_routes(Kind.TASK)


@router.post("/tickets/{id:item_id}/tasks", response={201: ItemOut}, tags=["tickets"],
             operation_id="create_task_from_ticket", summary="Make a task from a ticket (its requester and organization)")
def create_task_from_ticket(request: HttpRequest, item_id: int, payload: TaskFromTicketIn) -> Status[Item]:
    ticket = queries.get_item(item_id, kind=Kind.TICKET)
    task = create_task_from(ticket, payload.to_draft(), channel=Channel.API, actor=actor_of(request))
    return Status(201, queries.get_item(task.pk, kind=Kind.TASK))


@router.get("/tickets/{id:item_id}/tasks", response=ItemListOut, tags=["tickets"],
            operation_id="list_ticket_tasks", summary="The tasks made from a ticket")
def list_ticket_tasks(request: HttpRequest, item_id: int, params: Query[PageParams]) -> dict[str, Any]:
    ticket = queries.get_item(item_id, kind=Kind.TICKET)
    return _page(queries.item_list(Kind.TASK, names=False).filter(origin=ticket).order_by("id"), params)


@router.get("/attachments/{id:attachment_id}", url_name="attachment-download", tags=["attachments"],
            operation_id="download_attachment", summary="Download an attachment",
            openapi_extra={"responses": {200: {"description": "The file, as an attachment.",
                                               "content": {"application/octet-stream": {}}}}})
def download_attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = queries.get_attachment(attachment_id)
    missing = NotFound("attachment_file_missing", f"The file of attachment {attachment_id} is missing.")
    try:
        handle, size = open_stored(attachment.file)
    except OSError:  # a row without its file, or a file the storage lost
        raise missing from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.name,
                            content_type=attachment.content_type)
    response["Content-Length"] = size
    # The stored type came from whoever uploaded the file: never let a browser guess past it.
    response["X-Content-Type-Options"] = "nosniff"
    return response
