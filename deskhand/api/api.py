"""REST API v1: routers, bearer auth, and the one place domain errors become HTTP answers."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from deskhand.api.auth import BearerToken
from deskhand.api.routers import (
    admin,
    automations,
    customers,
    kb,
    mail,
    organizations,
    projects,
    replies,
    sla,
    surveys,
    work,
)
from deskhand.api.routers import reports as report_routes
from deskhand.core.errors import DomainError

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Deskhand",
    version="1",
    description="Customers, organizations and their work. Authenticate with `Authorization: Bearer <token>` "
    "(`deskhand token create --email you@example.com`).",
    auth=BearerToken(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
api.add_router("", customers.router)
api.add_router("", organizations.router)
api.add_router("", admin.router)
api.add_router("", work.router)
api.add_router("", projects.router)
api.add_router("", mail.router)
api.add_router("", automations.router)
api.add_router("", replies.router)
api.add_router("", sla.router)
api.add_router("", surveys.router)
api.add_router("", report_routes.router)
api.add_router("", kb.router)


def _error(request: HttpRequest, status: int, detail: str, field: str | None = None) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "field": field}, status=status)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.message, exc.field)


def _field_of(loc: list[Any]) -> str | None:
    parts = [str(part) for part in loc[1:] if part not in ("payload", "filters", "params")]
    return ".".join(parts) or None


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first: dict[str, Any] = exc.errors[0] if exc.errors else {}
    loc = list(first.get("loc", []))
    field = _field_of(loc)
    message = str(first.get("msg", "Invalid input."))
    detail = f"{field}: {message}" if field else message
    return _error(request, 422, detail, field)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "A valid API token is required: Authorization: Bearer <token>.")


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Not found.")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = 422 if exc.status_code == 400 else exc.status_code
    return _error(request, status, str(exc))


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "The request body is too large.")


@api.exception_handler(SuspiciousOperation)
def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Too many fields or files, a bad Host header, an unsafe file name: the client's fault, a 400.
    # The exception's text is for the log (django.security), not the answer.
    logging.getLogger(f"django.security.{type(exc).__name__}").warning("%s %s: %s", request.method, request.path,
                                                                         exc)
    return _error(request, 400, "Bad request: the request could not be read (too many fields or files?).")


@api.exception_handler(BadRequest)
def bad_request(request: HttpRequest, exc: BadRequest) -> HttpResponse:
    return _error(request, 400, "Bad request: the request could not be read.")


@api.exception_handler(MultiPartParserError)
def bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return _error(request, 400, "The body is not valid multipart/form-data (is the boundary missing?); "
                  "send the file as a form field named file.", "file")


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "Not allowed.")


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return _error(request, 500, "Something went wrong on our side; it has been logged.")
