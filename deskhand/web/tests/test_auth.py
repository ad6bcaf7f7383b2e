from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from deskhand.agents.models import Agent


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> None:
    cache.clear()


def test_signed_out_agents_are_sent_to_login(db: Any, client: Client) -> None:
    for path in ["/customers", "/customers/new", "/organizations/new", "/admin/customers"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login?next=")


def test_sign_in_and_out(admin: Agent, client: Client) -> None:
    page = client.get("/login")
    assert b'<label for="id_email">Email</label>' in page.content and b"Sign in" in page.content
    response = client.post("/login", {"email": "ADMIN@deskhand.test", "password": "correct-horse-9",
                                      "next": "/customers"})
    assert response.status_code == 302 and response["Location"] == "/customers"
    assert client.get("/customers").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/customers").status_code == 302


def test_wrong_password_says_so_and_keeps_the_email(admin: Agent, client: Client) -> None:
    response = client.post("/login", {"email": "admin@deskhand.test", "password": "wrong"})
    assert response.status_code == 400
    assert b"do not match" in response.content and b'value="admin@deskhand.test"' in response.content


def test_an_outside_next_url_is_ignored(admin: Agent, client: Client) -> None:
    response = client.post("/login", {"email": "admin@deskhand.test", "password": "correct-horse-9",
                                      "next": "https://evil.example/"})
    assert response["Location"] == "/tickets"


def test_failed_sign_ins_are_rate_limited(admin: Agent, client: Client) -> None:
    for _ in range(8):
        client.post("/login", {"email": "admin@deskhand.test", "password": "wrong"})
    response = client.post("/login", {"email": "admin@deskhand.test", "password": "correct-horse-9"})
    assert response.status_code == 429 and b"Too many failed sign-ins" in response.content


def test_sign_in_forms_need_csrf(admin: Agent) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login", {"email": "admin@deskhand.test", "password": "correct-horse-9"})
    assert response.status_code == 403


def test_cookies_are_secure_over_https(admin: Agent, client: Client) -> None:
    response = client.post("/login", {"email": "admin@deskhand.test", "password": "correct-horse-9"}, secure=True)
    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["sessionid"]["httponly"] is True


def test_404_page_in_the_app_style(admin: Agent, client: Client) -> None:
    client.force_login(admin)
    response = client.get("/customers/999999")
    assert response.status_code == 404 and b"start page" in response.content
