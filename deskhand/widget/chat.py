"""Live chat for the widget and the portal's chat page: JSON endpoints and a server-sent event
stream. No cookies and no CSRF: a visitor proves a chat is theirs with the token `POST /chats`
answered (header `X-Chat-Token`, or `?token=` on the stream, which EventSource cannot give
headers to). Errors are JSON `{"detail", "field"}`: 422 bad input, 403 wrong token, 404 no such
chat, 409 the chat ended, 429 too many.

    GET  /widget/chat/availability?lang=      → {"open", "message"}
    POST /widget/chats                        → 201 {"id", "token", "status", "ticket"}
    POST /widget/chats/<id>/messages          → 201 {"id"}
    GET  /widget/chats/<id>/events?token=&after=   text/event-stream
    POST /widget/chats/<id>/end               → 202
    POST /widget/chats/<id>/transcript        → 202 {"email"} (to the chat's own address)
"""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from deskhand.accounts.models import CustomerAccount
from deskhand.chat.inputs import ChatStart
from deskhand.chat.models import Chat, ChatSource
from deskhand.chat.queries import availability, get_chat_for_visitor
from deskhand.chat.services import end_chat, post_customer_message, send_transcript, start_chat
from deskhand.chat.stream import STREAMS_PER_CHAT, STREAMS_PER_CLIENT, chat_events, slots, sse_after, sse_response
from deskhand.core.actors import Actor
from deskhand.core.errors import DomainError
from deskhand.core.i18n import supported_language
from deskhand.work.models.items import reference

MAX_JSON = 16 * 1024


def _error(exc: DomainError) -> JsonResponse:
    status = exc.status if exc.status != 400 else 422
    return JsonResponse({"detail": exc.message, "field": exc.field}, status=status)


def _json(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_JSON:
        raise DomainError("too_large", _("The request is too large."), field=None)
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise DomainError("invalid_json", _("The request is not valid JSON."), field=None) from None
    if not isinstance(data, dict):
        raise DomainError("invalid_json", _("The request is a JSON object."), field=None)
    return data


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DomainError("invalid_value", _("This field is text."), field=name)
    return value


def _client(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def _token(request: HttpRequest) -> str:
    return str(request.headers.get("X-Chat-Token", "") or request.GET.get("token", ""))[:200]


def _language(chat: Chat) -> str:
    return supported_language(chat.language) or "en"


def visitor_start(request: HttpRequest, *, account: CustomerAccount | None, source: ChatSource) -> JsonResponse:
    """`POST /widget/chats` and the portal's start: the same input, the same answer."""
    try:
        data = _json(request)
        language = supported_language(_text(data, "language")) or translation.get_language() or "en"
        with translation.override(language):
            started = start_chat(ChatStart(
                message=_text(data, "message"), client=_client(request), email=_text(data, "email"),
                name=_text(data, "name"), language=language, page_url=_text(data, "page_url"), source=source,
                customer_id=account.customer_id if account is not None else None))
    except DomainError as exc:
        return _error(exc)
    chat = started.chat
    return JsonResponse({"id": chat.pk, "token": started.token, "status": chat.status,
                         "ticket": reference(chat.ticket_id) if chat.ticket_id else None}, status=201)


@require_GET
def chat_availability(request: HttpRequest) -> JsonResponse:
    with translation.override(supported_language(request.GET.get("lang", "")[:35]) or translation.get_language()):
        return JsonResponse(availability())


@csrf_exempt  # no cookies: the token is the visitor's proof
@require_POST
def start(request: HttpRequest) -> JsonResponse:
    return visitor_start(request, account=None, source=ChatSource.WIDGET)


@csrf_exempt
@require_POST
def post_message(request: HttpRequest, chat_id: int) -> JsonResponse:
    try:
        chat = get_chat_for_visitor(chat_id, _token(request))
        with translation.override(_language(chat)):
            message = post_customer_message(chat, body=_text(_json(request), "body"))
    except DomainError as exc:
        return _error(exc)
    return JsonResponse({"id": message.pk}, status=201)


@csrf_exempt
@require_POST
def end(request: HttpRequest, chat_id: int) -> JsonResponse:
    try:
        chat = get_chat_for_visitor(chat_id, _token(request))
        with translation.override(_language(chat)):
            chat = end_chat(chat, actor=Actor.customer(chat.email))
    except DomainError as exc:
        return _error(exc)
    return JsonResponse({"status": chat.status}, status=202)


@csrf_exempt
@require_POST
def transcript(request: HttpRequest, chat_id: int) -> JsonResponse:
    try:
        chat = get_chat_for_visitor(chat_id, _token(request))
        with translation.override(_language(chat)):
            address = send_transcript(chat, actor=Actor.customer(chat.email))  # to the chat's own address only
    except DomainError as exc:
        return _error(exc)
    return JsonResponse({"email": address}, status=202)


def event_stream(request: HttpRequest, chat_id: int, *, after: int, client: str) -> HttpResponseBase:
    """A chat's event stream, within the per-chat and per-address bounds (429 past them)."""
    release = slots.take({f"chat:{chat_id}": STREAMS_PER_CHAT, f"client:{client}": STREAMS_PER_CLIENT})
    if release is None:
        return JsonResponse({"detail": _("Too many open connections to this chat."), "field": None}, status=429)
    return sse_response(chat_events(chat_id, after=after, release=release), release, request=request)


@require_GET
async def events(request: HttpRequest, chat_id: int) -> HttpResponseBase:
    try:
        chat = await sync_to_async(get_chat_for_visitor)(chat_id, _token(request))
    except DomainError as exc:
        return _error(exc)
    after = sse_after(request.headers.get("Last-Event-ID") or request.GET.get("after"))
    return event_stream(request, chat.pk, after=after, client=_client(request))
