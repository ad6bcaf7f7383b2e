"""Who may call the widget's endpoints from a browser: the help desk's own origin and the origins an
admin lists (Administration → Customer apps → Widget). django-cors-headers answers the preflights
and sets the headers (CORS_URLS_REGEX limits it to /widget/); its `check_request_enabled` signal asks
`allowed_origin`. CORS only stops a page from *reading* a response, and a form-encoded or text POST
needs no preflight, so WidgetOriginMiddleware also refuses any /widget/ request whose Origin is not
allowed before a view runs: a site not on the list cannot start a chat or count a vote in a visitor's
browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext

from deskhand.config.queries import get_setting

PREFIX = "/widget/"


def own_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _widget(request: HttpRequest) -> tuple[bool, list[str]]:
    """Whether the widget is on and the origins allowed, read once a request (the middleware and
    django-cors-headers' two checks each ask)."""
    found: tuple[bool, list[str]] | None = getattr(request, "_deskhand_widget", None)
    if found is None:
        found = (bool(get_setting("widget_enabled")), list(get_setting("widget_origins")))
        request._deskhand_widget = found  # type: ignore[attr-defined]
    return found


def allowed_origin(request: HttpRequest, origin: str) -> bool:
    if origin in (settings.PUBLIC_ORIGIN, own_origin(request)):
        return True
    enabled, origins = _widget(request)
    return enabled and origin in origins


def _cors_enabled(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    origin = request.headers.get("origin", "")
    return request.path_info.startswith(PREFIX) and bool(origin) and allowed_origin(request, origin)


check_request_enabled.connect(_cors_enabled, dispatch_uid="deskhand-widget-cors")


def _open_while_off(path: str) -> bool:
    """The configuration, and a chat already started (`/widget/chats/<id>/…`, which needs its
    token): the portal's chat page speaks these endpoints from the help desk's own origin, and a
    chat does not stop halfway when the widget is switched off. Starting one from the widget does."""
    return path == f"{PREFIX}config" or path.startswith(f"{PREFIX}chats/")


class WidgetOriginMiddleware:
    """Refuses /widget/ requests from an origin not on the list (403), and every widget endpoint but
    its configuration and a started chat's while the widget is switched off (404)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(PREFIX):
            origin = request.headers.get("origin", "")
            preflight = request.method == "OPTIONS" and "access-control-request-method" in request.headers
            if origin and not preflight and not allowed_origin(request, origin):
                return JsonResponse({"detail": gettext("This site may not use the help desk's widget."),
                                     "code": "origin_not_allowed"}, status=403)
            if not _widget(request)[0] and not _open_while_off(request.path_info):
                return JsonResponse({"detail": gettext("The widget is switched off."), "code": "widget_off"},
                                    status=404)
        return self.get_response(request)
