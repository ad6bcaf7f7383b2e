from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from deskhand.core.outage import RETRY_AFTER_SECONDS
from deskhand.system.health import check_database, check_queue, check_storage


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the task queue and attachment storage answer; 503 (with what is
    not ok, never an error's text) otherwise."""
    checks = {"database": check_database(), "queue": check_queue(), "storage": check_storage()}
    ok = all(check.ok for check in checks.values())
    response = JsonResponse({
        "status": "ok" if ok else "error", "database": settings.DATABASE_VENDOR,
        "checks": {name: {"ok": check.ok, "backend": check.backend, "ms": check.ms} for name, check in checks.items()},
    }, status=200 if ok else 503)
    if not ok:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """/favicon.ico: browsers and feed readers ask for it whatever the pages link; it answers with
    the SVG icon the pages name (`static/favicon.svg`) instead of a 404 in every log."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
