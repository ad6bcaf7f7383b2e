"""Canned responses and macros: an agent's own and the shared ones; applying a macro to a ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field, StrictBool, StrictStr

from deskhand.api.auth import actor_of
from deskhand.api.pagination import ListParams, paginate
from deskhand.api.schemas import ActionIn
from deskhand.core.inputs import UNSET
from deskhand.replies import queries, services
from deskhand.replies.inputs import CannedChanges, MacroChanges, NewCannedResponse, NewMacro
from deskhand.replies.models import CannedResponse, Macro
from deskhand.work import queries as work_queries
from deskhand.work.models import Kind

router = Router(tags=["replies"])


class CannedResponseIn(Schema):
    title: StrictStr = Field(max_length=2000)
    body: StrictStr = Field(max_length=40_000, description="Markdown; placeholders such as {{ requester.first_name }}.")
    shortcut: StrictStr = Field("", max_length=100, description="Typed after ; in the reply box.")
    shared: StrictBool = Field(False, description="Shared with the team (admins only); else your own.")


class CannedResponsePatch(Schema):
    title: StrictStr | None = Field(None, max_length=2000)
    body: StrictStr | None = Field(None, max_length=40_000)
    shortcut: StrictStr | None = Field(None, max_length=100)
    shared: StrictBool | None = None

    def to_changes(self) -> CannedChanges:
        sent = self.model_fields_set
        return CannedChanges(**{name: getattr(self, name) if getattr(self, name) is not None else UNSET
                                for name in ("title", "body", "shortcut", "shared") if name in sent})


class CannedResponseOut(Schema):
    id: int
    title: str
    body: str
    shortcut: str
    shared: bool
    owner: int | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_shared(obj: CannedResponse) -> bool:
        return obj.owner_id is None

    @staticmethod
    def resolve_owner(obj: CannedResponse) -> int | None:
        return obj.owner_id


class CannedResponseListOut(Schema):
    items: list[CannedResponseOut]
    count: int


class MacroIn(Schema):
    name: StrictStr = Field(max_length=2000)
    reply: StrictStr = Field("", max_length=40_000, description="Markdown; the automations' placeholders.")
    actions: list[ActionIn] = Field([], max_length=20, description="Automation actions (not reply).")
    shared: StrictBool = False


class MacroPatch(Schema):
    name: StrictStr | None = Field(None, max_length=2000)
    reply: StrictStr | None = Field(None, max_length=40_000)
    actions: list[ActionIn] | None = Field(None, max_length=20)
    shared: StrictBool | None = None

    def to_changes(self) -> MacroChanges:
        sent = self.model_fields_set
        values: dict[str, Any] = {}
        for name in ("name", "reply", "shared"):
            if name in sent and getattr(self, name) is not None:
                values[name] = getattr(self, name)
        if "actions" in sent:
            values["actions"] = tuple(action.to_input() for action in self.actions or [])
        return MacroChanges(**values)


class MacroOut(Schema):
    id: int
    name: str
    reply: str
    actions: list[dict[str, Any]]
    shared: bool
    owner: int | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_shared(obj: Macro) -> bool:
        return obj.owner_id is None

    @staticmethod
    def resolve_owner(obj: Macro) -> int | None:
        return obj.owner_id


class MacroListOut(Schema):
    items: list[MacroOut]
    count: int


class MacroAppliedOut(Schema):
    ticket: int
    status: str
    priority: str
    message: int | None = Field(description="The reply the macro sent, if it has one.")


@router.get("/canned-responses", response=CannedResponseListOut)
def list_canned_responses(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    """The shared canned responses and your own."""
    return paginate(queries.canned_list(actor_of(request).agent_id, search=params.search), params)


@router.post("/canned-responses", response={201: CannedResponseOut})
def create_canned_response(request: HttpRequest, payload: CannedResponseIn) -> Status[CannedResponse]:
    new = NewCannedResponse(title=payload.title, body=payload.body, shortcut=payload.shortcut, shared=payload.shared)
    return Status(201, services.create_canned_response(new, actor=actor_of(request)))


@router.get("/canned-responses/{id:canned_id}", response=CannedResponseOut)
def get_canned_response(request: HttpRequest, canned_id: int) -> CannedResponse:
    return queries.get_canned_for_agent(actor_of(request).agent_id, canned_id)


@router.patch("/canned-responses/{id:canned_id}", response=CannedResponseOut)
def update_canned_response(request: HttpRequest, canned_id: int, payload: CannedResponsePatch) -> CannedResponse:
    actor = actor_of(request)
    row = queries.get_canned_for_agent(actor.agent_id, canned_id)
    return services.update_canned_response(row, changes=payload.to_changes(), actor=actor)


@router.delete("/canned-responses/{id:canned_id}", response={204: None})
def delete_canned_response(request: HttpRequest, canned_id: int) -> Status[None]:
    actor = actor_of(request)
    services.delete_canned_response(queries.get_canned_for_agent(actor.agent_id, canned_id), actor=actor)
    return Status(204, None)


@router.get("/macros", response=MacroListOut)
def list_macros(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    """The shared macros and your own."""
    return paginate(queries.macro_list(actor_of(request).agent_id, search=params.search), params)


@router.post("/macros", response={201: MacroOut})
def create_macro(request: HttpRequest, payload: MacroIn) -> Status[Macro]:
    new = NewMacro(name=payload.name, reply=payload.reply, shared=payload.shared,
                   actions=tuple(action.to_input() for action in payload.actions))
    return Status(201, services.create_macro(new, actor=actor_of(request)))


@router.get("/macros/{id:macro_id}", response=MacroOut)
def get_macro(request: HttpRequest, macro_id: int) -> Macro:
    return queries.get_macro_for_agent(actor_of(request).agent_id, macro_id)


@router.patch("/macros/{id:macro_id}", response=MacroOut)
def update_macro(request: HttpRequest, macro_id: int, payload: MacroPatch) -> Macro:
    actor = actor_of(request)
    row = queries.get_macro_for_agent(actor.agent_id, macro_id)
    return services.update_macro(row, changes=payload.to_changes(), actor=actor)


@router.delete("/macros/{id:macro_id}", response={204: None})
def delete_macro(request: HttpRequest, macro_id: int) -> Status[None]:
    actor = actor_of(request)
    services.delete_macro(queries.get_macro_for_agent(actor.agent_id, macro_id), actor=actor)
    return Status(204, None)


@router.post("/tickets/{id:ticket_id}/macros/{id:macro_id}", response=MacroAppliedOut, tags=["tickets"])
def apply_macro(request: HttpRequest, ticket_id: int, macro_id: int) -> dict[str, Any]:
    """Apply a macro: its reply and its changes, all or nothing."""
    actor = actor_of(request)
    item = work_queries.get_item(ticket_id, kind=Kind.TICKET)
    macro = queries.get_macro_for_agent(actor.agent_id, macro_id)
    message = services.apply_macro(item, macro, actor=actor)
    item = work_queries.get_item(ticket_id)
    return {"ticket": item.pk, "status": item.status.key, "priority": item.priority_key,
            "message": message.pk if message else None}

