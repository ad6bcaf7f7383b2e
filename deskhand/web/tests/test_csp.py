"""The Content-Security-Policy and its companion headers on every kind of response."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client

from deskhand.web.middleware import ContentSecurityPolicyMiddleware

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/login", "/no-such-page", "/api/v1/openapi.json", "/api/v1/docs", "/healthz"])
def test_every_response_carries_the_policy(client: Client, path: str) -> None:
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_a_view_can_widen_the_policy_for_its_own_response() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("remote images shown")
        response.csp_extra = {"img-src": ("https:",)}  # type: ignore[attr-defined]
        return response

    response = ContentSecurityPolicyMiddleware(view)(HttpRequest())
    assert "img-src 'self' data: https:;" in response.headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in ContentSecurityPolicyMiddleware(lambda r: HttpResponse())(
        HttpRequest()).headers["Content-Security-Policy"]
