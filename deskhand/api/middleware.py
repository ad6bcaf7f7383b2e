from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

MESSAGES = {
    400: "Bad request: the request could not be read.",
    403: "Not allowed.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "The request body is too large.",
    500: "Something went wrong on our side; it has been logged.",
    503: "The service is restarting or busy; try again in a few seconds (Retry-After).",
}


class JsonErrorsMiddleware:
    """Answers under /api/ are JSON even when no API route matched (404), the method is wrong (405),
    or Django answered before the API could (400 for a SuspiciousOperation, 403 CSRF, 500)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in MESSAGES
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            json = JsonResponse({"detail": MESSAGES[response.status_code], "field": None},
                                status=response.status_code)
            for header in ("Allow", "Retry-After"):
                if response.has_header(header):
                    json[header] = response[header]
            return json
        return response
