"""Who may open agent pages: signed-in agents, and admins for Administration."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme

from deskhand.core.actors import Actor
from deskhand.web.http import AgentRequest

View = Callable[..., HttpResponse]


def agent_required(view: View) -> View:
    return login_required(view, login_url="/login")


def admin_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "is_admin", False):
            raise PermissionDenied("Only administrators can open this page.")
        return view(request, *args, **kwargs)

    return agent_required(wrapper)


def actor(request: AgentRequest) -> Actor:
    return Actor.agent(request.user)


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go back to after a form: a path of this site, never another host."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default
