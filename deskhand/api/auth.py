from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from deskhand.agents.models import ApiToken
from deskhand.agents.services import authenticate_token
from deskhand.core.actors import Actor
from deskhand.core.errors import Forbidden


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; the request gets the acting `actor` and `agent`."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = authenticate_token(token.strip())
        if api_token is None:
            return None
        request_any: Any = request
        request_any.agent = api_token.agent
        request_any.actor = Actor.token(api_token, api_token.agent)
        return api_token


def actor_of(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]  # set by the bearer-token check
    return actor


def require_admin(request: HttpRequest) -> Actor:
    """What the web app keeps under Administration (`web.access.admin_required`) is for admin
    tokens in the API too: settings, ticket addresses with their IMAP accounts, the never-follow
    list and inbound mail. docs/decisions.md lists what agents' tokens may read."""
    actor = actor_of(request)
    if not actor.is_admin:
        raise Forbidden("admin_required", "Only administrators can use this endpoint.")
    return actor
