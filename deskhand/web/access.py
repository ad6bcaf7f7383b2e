"""Who may open agent pages: signed-in agents, and admins for Administration."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext

from deskhand.core.actors import Actor
from deskhand.web.http import AgentRequest

# Any response a view returns: a page, a redirect, a file download or a CSV stream.
_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])
_Params = ParamSpec("_Params")
_Response = TypeVar("_Response", bound=HttpResponseBase)


def agent_required(view: _View) -> _View:
    return login_required(view, login_url="/login")


def admin_required(
    view: Callable[Concatenate[AgentRequest, _Params], _Response],
) -> Callable[Concatenate[AgentRequest, _Params], _Response]:
    @wraps(view)
    def wrapper(request: AgentRequest, /, *args: _Params.args, **kwargs: _Params.kwargs) -> _Response:
        if not request.user.is_admin:
            raise PermissionDenied(gettext("Only administrators can open this page."))
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
