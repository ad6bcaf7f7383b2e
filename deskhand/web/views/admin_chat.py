"""Administration → Customer apps → Live chat: whether customers can chat, how long a chat waits for an
agent before it becomes a ticket, and the business hours (an SLA policy's) in which chat is open."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from deskhand.chat.queries import chat_open
from deskhand.config.queries import get_settings
from deskhand.config.services import update_settings
from deskhand.core.errors import DomainError, Invalid
from deskhand.core.numbers import id_or_none, parse_int
from deskhand.sla.models import SlaPolicy
from deskhand.web.access import actor, admin_required
from deskhand.web.http import AgentRequest

MAX_POLICIES = 200  # policies the choice lists


def chat_context() -> dict[str, Any]:
    """What the live chat's section of Administration → Customer apps shows."""
    values = get_settings()
    policies = list(SlaPolicy.objects.order_by("name").only("id", "name", "always")[:MAX_POLICIES])
    chosen = values["chat_hours_policy"]
    return {"chat": {
        "enabled": values["chat_enabled"], "accept_seconds": values["chat_accept_seconds"],
        # A policy deleted since counts as "always open": the choice shows what applies.
        "policy": chosen if any(policy.pk == chosen for policy in policies) else None,
        "policies": policies, "open_now": chat_open(),
    }}


def _seconds(text: str) -> int:
    return parse_int(text.strip()[:20], field="chat_accept_seconds", minimum=10, maximum=24 * 3600,
                     message=gettext("The accept timeout is a whole number of seconds from 10 to 86400."))


def _policy(text: str) -> int | None:
    text = text.strip()[:20]
    if not text:
        return None
    policy_id = id_or_none(text)
    if policy_id is None or not SlaPolicy.objects.filter(pk=policy_id).exists():
        raise Invalid("invalid_setting", gettext("There is no such SLA policy; choose one of the list or “Always open”."),
                      field="chat_hours_policy")
    return policy_id


@require_POST
@admin_required
def save_chat(request: AgentRequest) -> HttpResponse:
    data = request.POST
    try:
        update_settings({"chat_enabled": data.get("enabled") == "on",
                         "chat_accept_seconds": _seconds(data.get("accept_seconds", "")),
                         "chat_hours_policy": _policy(data.get("hours_policy", ""))}, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Live chat saved. Customers see the change on their next page."))
    return redirect(f"{reverse('web:admin-apps')}#chat-title")
