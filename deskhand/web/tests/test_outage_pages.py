"""A database or Redis out of reach for a moment: a 503 that says to try again (Retry-After),
never the 500 page that reads like a bug, and nothing about the server in it."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path
from psycopg_pool import PoolTimeout
from redis.exceptions import ConnectionError as RedisConnectionError

from deskhand.web.tests.test_error_pages import assert_short_and_clean

OUTAGES = {
    "database": OperationalError("connection to server at \"db.internal\" (10.0.0.5), port 5432 failed"),
    "pool": PoolTimeout("couldn't get a connection after 20.00 sec"),
    "redis": RedisConnectionError("Error 111 connecting to redis.internal:6379. Connection refused."),
    "storage": EndpointConnectionError(endpoint_url="http://s3.internal:9000/files"),
}


def _outage(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        raise OUTAGES[kind]
    except Exception as exc:
        raise RuntimeError("while saving the reply") from exc  # wrapped, as libraries do


urlpatterns = [
    path("down/<str:kind>", _outage),
    path("api/v1/down/<str:kind>", _outage),
    path("", include("deskhand.urls")),
]
handler500 = "deskhand.web.views.errors.server_error"  # as deskhand/urls.py has it


@pytest.fixture
def outage_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__


@pytest.mark.parametrize("kind", sorted(OUTAGES))
def test_a_page_during_an_outage_is_a_503_that_says_to_try_again(outage_urls: None, db: Any, kind: str) -> None:
    response = Client(raise_request_exception=False).get(f"/down/{kind}")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert_short_and_clean(response.content)
    assert b"try again in a few seconds" in response.content
    assert b"internal" not in response.content


@pytest.mark.parametrize("kind", sorted(OUTAGES))
def test_the_api_during_an_outage_answers_json_503_with_retry_after(outage_urls: None, db: Any, kind: str) -> None:
    response = Client(raise_request_exception=False).get(f"/api/v1/down/{kind}")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["detail"].startswith("The service is restarting or busy")
    assert "internal" not in response.content.decode()
