"""URLs for test_webserver: the real app plus views that take their time."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path

from deskhand.urls import urlpatterns as app_urlpatterns

release = threading.Event()


def slow(request: HttpRequest) -> HttpResponse:
    release.wait(10)
    return HttpResponse("done")


def trickle(request: HttpRequest) -> StreamingHttpResponse:
    def parts() -> Iterator[bytes]:
        yield b"first\n"
        release.wait(10)
        yield b"second\n"

    return StreamingHttpResponse(parts(), content_type="text/plain")


urlpatterns = [path("test/slow", slow), path("test/trickle", trickle), *app_urlpatterns]
