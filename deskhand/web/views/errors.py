from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"message": str(exception) if exception else ""}, status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"message": str(exception) if exception else ""}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: a broken context processor must not break the error page too.
    return HttpResponse(render_to_string("500.html"), status=500)
