"""The error pages: short, friendly, and they show nothing about the server.

Django hands the 404 handler the exception it caught. For an address that matched no route that
is a `Resolver404` whose text is the URL resolver's whole list of patterns, module paths included;
only the one-sentence messages Deskhand's own views raise (`Http404("No such workflow.")`) are shown.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404

from deskhand.core.i18n import is_customer_page
from deskhand.core.outage import RETRY_AFTER_SECONDS, current_outage

MAX_MESSAGE = 200


def _message(exception: Exception | None) -> str:
    """The sentence a view raised, if it raised one; never the resolver's internals."""
    if exception is None or isinstance(exception, Resolver404) or len(exception.args) != 1:
        return ""
    text = exception.args[0]
    return text if isinstance(text, str) and len(text) <= MAX_MESSAGE else ""


def _page(template: str, status: int, message: str = "", request: HttpRequest | None = None) -> HttpResponse:
    # No request context: a broken context processor or session must not break the error page too.
    # A customer's page (portal, form, survey) leads back to the portal, not to the agents' app.
    portal = request is not None and is_customer_page(request)
    return HttpResponse(render_to_string(template, {"message": message, "portal": portal}), status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The text of a SuspiciousOperation is for the log (Django writes it to django.security).
    return _page("400.html", 400, request=request)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page("403.html", 403, _message(exception), request)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page("404.html", 404, _message(exception), request)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django calls this inside its `except`: a database or Redis out of reach for a moment is a
    503 that says to try again, with a Retry-After for scripts; anything else is our bug (500)."""
    if current_outage():
        response = _page("503.html", 503, request=request)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return _page("500.html", 500, request=request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: an expired form, said plainly (Django's page explains CSRF to developers)."""
    return _page("403_csrf.html", 403, request=request)
