"""/favicon.ico: browsers and feed readers ask for it whatever the pages link; it answers with the
SVG icon the pages name (`static/favicon.svg`) instead of a 404 in every log."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(static("favicon.svg"))
