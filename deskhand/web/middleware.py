from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from deskhand.core.csp import policy_header


class SecureCookiesOverHttpsMiddleware:
    """Session and CSRF cookies are marked Secure whenever the request came over HTTPS, so one
    install works both on a laptop over http and behind a TLS proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.is_secure():
            for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
                if name in response.cookies:
                    response.cookies[name]["secure"] = True
        return response


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy on every response. A view that needs more (a message
    whose remote images the agent chose to load, say) sets `response.csp_extra`, e.g.
    `{"img-src": ("https:",)}`, which is added to the policy for that response only."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = policy_header()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        extra = getattr(response, "csp_extra", None)
        response.headers.setdefault("Content-Security-Policy", policy_header(extra) if extra else self.header)
        return response
