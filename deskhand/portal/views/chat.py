"""The portal's "Chat with us" page. It speaks the widget's chat protocol (deskhand/widget/chat.py)
from a small script; only the start is the portal's own, so that a signed-in customer is known
(their session, with CSRF) and needs no email. Everyone else gives an address, as in the widget."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deskhand.chat.inputs import ChatStart
from deskhand.chat.models import ChatSource
from deskhand.chat.queries import availability
from deskhand.chat.services import start_chat
from deskhand.core.errors import DomainError
from deskhand.core.i18n import supported_language
from deskhand.portal.sessions import current_account, with_portal_session
from deskhand.work.models.items import reference

MAX_JSON = 16 * 1024


@require_GET
@with_portal_session
def chat_page(request: HttpRequest) -> HttpResponse:
    account = current_account(request)
    return render(request, "portal/chat.html", {"account": account, "availability": availability()})


@require_POST
@with_portal_session
def start(request: HttpRequest) -> JsonResponse:
    account = current_account(request)
    try:
        if len(request.body) > MAX_JSON:
            raise DomainError("too_large", _("The request is too large."))
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise DomainError("invalid_json", _("The request is not valid JSON.")) from None
        if not isinstance(data, dict) or not all(isinstance(data.get(key, ""), str)
                                                 for key in ("email", "name", "message")):
            raise DomainError("invalid_json", _("The request is not valid JSON."))
        language = supported_language(translation.get_language())
        started = start_chat(ChatStart(
            message=data.get("message", ""), client=str(request.META.get("REMOTE_ADDR", ""))[:64],
            email=data.get("email", ""), name=data.get("name", ""), language=language,
            source=ChatSource.PORTAL, customer_id=account.customer_id if account is not None else None))
    except DomainError as exc:
        return JsonResponse({"detail": exc.message, "field": exc.field}, status=exc.status if exc.status != 400 else 422)
    chat = started.chat
    return JsonResponse({"id": chat.pk, "token": started.token, "status": chat.status,
                         "ticket": reference(chat.ticket_id) if chat.ticket_id else None}, status=201)
