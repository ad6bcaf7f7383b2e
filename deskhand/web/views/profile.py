"""Each agent's own profile (name, signature, language, time zone, notifications, password, API
tokens) and the page an invited agent chooses their password on."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskhand.agents.queries import get_token_for_agent, token_list
from deskhand.agents.services import (
    MAX_PASSWORD,
    SIGNATURE_MAX_CHARS,
    accept_welcome,
    change_password,
    issue_token,
    read_welcome_token,
    revoke_token,
    update_profile,
)
from deskhand.core.errors import DomainError
from deskhand.notifications.models import Channel, Event
from deskhand.notifications.queries import switches_of
from deskhand.notifications.services import set_switches
from deskhand.web.access import actor, agent_required
from deskhand.web.http import AgentRequest


@cache
def time_zones() -> list[str]:
    return sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone and not zone.startswith(
        ("Etc/", "SystemV/", "posix/", "right/"))) + ["UTC"]


def _languages() -> list[tuple[str, str]]:
    return [(str(code), str(name)) for code, name in settings.LANGUAGES]


def _page(request: AgentRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    agent = request.user
    switches = switches_of(agent)
    rows = [{"event": event, "label": label, "channels": [
        {"channel": channel, "label": channel_label, "on": switches[(event, channel)]}
        for channel, channel_label in Channel.choices]} for event, label in Event.choices]
    return render(request, "web/profile/profile.html", {
        "agent": agent, "languages": _languages(), "time_zones": time_zones(), "help_desk_zone": settings.TIME_ZONE,
        "signature_max": SIGNATURE_MAX_CHARS, "switch_rows": rows, "channels": Channel.choices,
        "tokens": list(token_list(agent=agent).order_by("-id")), "password_max": MAX_PASSWORD, **extra,
    }, status=status)


@require_GET
@agent_required
def profile(request: AgentRequest) -> HttpResponse:
    return _page(request)


@require_POST
@agent_required
def save_profile(request: AgentRequest) -> HttpResponse:
    data = request.POST
    try:
        update_profile(request.user, name=data.get("name", "")[:1000], signature=data.get("signature", "")[:20_000],
                       language=data.get("language", "")[:100], time_zone=data.get("time_zone", "")[:200],
                       actor=actor(request))
    except DomainError as exc:
        return _page(request, status=exc.status, profile_error={"field": exc.field, "message": exc.message},
                     typed=data)
    messages.success(request, gettext("Your profile is saved."))
    return redirect("web:profile")


@require_POST
@agent_required
def save_notifications(request: AgentRequest) -> HttpResponse:
    chosen = set(request.POST.getlist("switch")[:100])
    switches = {(event, channel): f"{event}.{channel}" in chosen for event in Event.values for channel in Channel.values}
    set_switches(request.user, switches=switches, actor=actor(request))
    messages.success(request, gettext("Your notifications are saved."))
    return redirect("/profile#notifications")


@require_POST
@agent_required
def save_password(request: AgentRequest) -> HttpResponse:
    agent = request.user
    try:
        change_password(agent, current=request.POST.get("current_password", "")[:1000],
                        new=request.POST.get("new_password", "")[:1000], actor=actor(request))
    except DomainError as exc:
        return _page(request, status=exc.status, password_error={"field": exc.field, "message": exc.message})
    # This browser stays signed in; every other session of the agent ends (its hash no longer matches).
    auth.update_session_auth_hash(request, agent)
    messages.success(request, gettext("Your password is changed; you were signed out everywhere else."))
    return redirect("web:profile")


@require_POST
@agent_required
def create_token(request: AgentRequest) -> HttpResponse:
    try:
        token, plain = issue_token(request.user, name=request.POST.get("name", "")[:1000], actor=actor(request))
    except DomainError as exc:
        return _page(request, status=exc.status, token_error=exc.message)
    return _page(request, new_token={"token": token, "plain": plain})


@require_POST
@agent_required
def revoke_own_token(request: AgentRequest, token_id: int) -> HttpResponse:
    try:
        token = get_token_for_agent(request.user, token_id)
        revoke_token(token.pk, actor=actor(request))
    except DomainError as exc:
        return _page(request, status=exc.status, token_error=exc.message)
    messages.success(request, gettext("Token %(prefix)s… is revoked.") % {"prefix": token.prefix})
    return redirect("/profile#tokens")


@require_http_methods(["GET", "POST"])
def welcome(request: HttpRequest, token: str) -> HttpResponse:
    """An invited agent's link: choose a password, and be signed in."""
    try:
        agent = read_welcome_token(token)
    except DomainError as exc:
        return render(request, "web/profile/welcome.html", {"link_error": exc.message}, status=exc.status)
    if request.method == "POST":
        try:
            agent = accept_welcome(token, password=request.POST.get("password", "")[:1000])
        except DomainError as exc:
            return render(request, "web/profile/welcome.html", {"agent": agent, "error": exc.message},
                          status=exc.status)
        auth.login(request, agent, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, gettext("Welcome, %(name)s. Your password is set.") % {"name": agent.display_name})
        return redirect("web:ticket-list")
    return render(request, "web/profile/welcome.html", {"agent": agent, "password_max": MAX_PASSWORD})
