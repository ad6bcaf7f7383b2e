from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


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


# Every page: our own scripts, styles, images (mail's inline images are served by us; data: for
# small icons) and nothing else; never framed. No inline script or style attribute anywhere:
# behaviour lives in static/deskhand.js, looks in static/deskhand.css.
CONTENT_SECURITY_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "style-src": ("'self'",),
    "script-src": ("'self'",),
    "frame-ancestors": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "object-src": ("'none'",),
}


def policy_header(extra: dict[str, tuple[str, ...]] | None = None) -> str:
    directives = {name: list(sources) for name, sources in CONTENT_SECURITY_POLICY.items()}
    for name, sources in (extra or {}).items():
        directives.setdefault(name, []).extend(source for source in sources if source not in directives[name])
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


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
