from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the app and its database answer, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse({"status": "error", "database": settings.DATABASE_VENDOR, "detail": str(exc)},
                            status=503)
    return JsonResponse({"status": "ok", "database": settings.DATABASE_VENDOR})


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """/favicon.ico: browsers and feed readers ask for it whatever the pages link; it answers with
    the SVG icon the pages name (`static/favicon.svg`) instead of a 404 in every log."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
