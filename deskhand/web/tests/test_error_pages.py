"""The 400, 403, 404 and 500 pages (and the CSRF failure page): short, friendly, leaking nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from deskhand.agents.models import Agent

LEAKS = ["urlpatterns", "URLPattern", "URLResolver", "tried", "Traceback", "deskhand.web.urls", "site-packages",
         str(settings.BASE_DIR), "/work/", "Request Method", "Django", "csrf"]
MAX_BYTES = 2_000


def assert_short_and_clean(body: bytes, home: str = "/") -> None:
    text = body.decode()
    assert len(body) < MAX_BYTES, len(body)
    for leak in LEAKS:
        assert leak not in text, leak
    assert f'<a href="{home}">' in text


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(f"secret detail from {settings.BASE_DIR}")


def _suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation(f"suspicious detail from {settings.BASE_DIR}")


urlpatterns = [
    path("boom", _boom),
    path("api/v1/boom", _boom),
    path("suspicious", _suspicious),
    path("", include("deskhand.urls")),
]


@pytest.fixture
def raising_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__


@pytest.mark.parametrize("url", ["/admin", "/portal/nope", "/nope/x", "/customers/abc", "/tickets/99999",
                                 "/customers/99999999999999999999999"])
@pytest.mark.parametrize("who", ["anonymous", "agent"])
def test_a_missing_page_is_a_short_404(url: str, who: str, agent: Agent) -> None:
    client = Client()
    if who == "agent":
        client.force_login(agent)
    response = client.get(url)
    if who == "anonymous" and url == "/tickets/99999":
        # A real page: an anonymous visitor is sent to sign in, and learns nothing about the ticket.
        assert response.status_code == 302 and response["Location"].startswith("/login")
        return
    assert response.status_code == 404
    # A customer's page leads back to the portal.
    assert_short_and_clean(response.content, "/portal/" if url.startswith("/portal/") else "/")
    assert b"Not found" in response.content


def test_forbidden_is_short_and_says_why(agent_client: Client) -> None:
    response = agent_client.get("/admin/customers")
    assert response.status_code == 403
    assert_short_and_clean(response.content)
    assert b"Only administrators can open this page." in response.content


def test_an_unexpected_error_is_a_short_500_without_details(raising_urls: None, agent: Agent) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(agent)
    response = client.get("/boom")
    assert response.status_code == 500
    assert_short_and_clean(response.content)
    assert b"secret detail" not in response.content and b"Something went wrong" in response.content


def test_a_suspicious_request_is_a_short_400(raising_urls: None, db: Any) -> None:
    response = Client(raise_request_exception=False).get("/suspicious")
    assert response.status_code == 400
    assert_short_and_clean(response.content)
    assert b"suspicious detail" not in response.content


def test_an_api_error_outside_the_api_router_is_json(raising_urls: None, db: Any) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on our side; it has been logged.", "field": None}


def test_a_form_without_its_csrf_token_gets_a_friendly_page(admin: Agent) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post("/customers/new", {"email": "ana@acme.com"})
    assert response.status_code == 403
    assert_short_and_clean(response.content)
    assert b"Please try again" in response.content and b"nothing was saved" in response.content
