from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from deskhand.agents import ratelimit
from deskhand.agents.models import Agent, SignInFailure


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


def _fail(client: Client, email: str, times: int, *, ip: str = "203.0.113.7") -> None:
    for _ in range(times):
        client.post("/login", {"email": email, "password": "wrong-password"}, REMOTE_ADDR=ip)


def _sign_in(client: Client, email: str, *, ip: str = "203.0.113.7") -> HttpResponse:
    return client.post("/login", {"email": email, "password": "correct-horse-9"}, REMOTE_ADDR=ip)


def test_an_attacked_address_does_not_lock_out_other_agents_behind_the_same_ip(
        admin: Agent, agent: Agent, client: Client) -> None:
    _fail(client, "admin@deskhand.test", 30)
    assert _sign_in(client, "admin@deskhand.test").status_code == 429
    # The colleague in the same office signs in at once.
    response = _sign_in(Client(), "ana@deskhand.test")
    assert response.status_code == 302 and response["Location"] == "/tickets"


def test_the_attacked_account_waits_a_short_growing_delay_from_any_client(admin: Agent, client: Client) -> None:
    _fail(client, "admin@deskhand.test", 5)
    response = _sign_in(Client(), "admin@deskhand.test", ip="198.51.100.9")  # another client: also slowed
    assert response.status_code == 429
    assert b"Wait 15 seconds" in response.content and response["Retry-After"] == "15"
    # The delay has passed: the owner signs in, and the count starts afresh.
    SignInFailure.objects.update(created_at=timezone.now() - timedelta(seconds=16))
    assert _sign_in(Client(), "admin@deskhand.test", ip="198.51.100.9").status_code == 302
    assert not SignInFailure.objects.filter(account="admin@deskhand.test").exists()


def test_each_failure_after_the_free_ones_doubles_the_wait() -> None:
    assert [ratelimit.account_delay(n) for n in (4, 5, 6, 7, 20)] == [0, 15, 30, 60, 900]


def test_a_client_failing_across_many_accounts_is_blocked(admin: Agent, client: Client) -> None:
    for number in range(21):
        _fail(client, f"guess{number}@deskhand.test", 1)
    response = _sign_in(client, "admin@deskhand.test")
    assert response.status_code == 429 and b"Too many failed sign-ins" in response.content
    # Another client signs in to the same account.
    assert _sign_in(Client(), "admin@deskhand.test", ip="198.51.100.9").status_code == 302


def test_the_failures_are_shared_by_every_process(admin: Agent, client: Client) -> None:
    _fail(client, "admin@deskhand.test", 5)
    # Counted in the database, not in this process's memory.
    cache.clear()
    assert SignInFailure.objects.filter(account="admin@deskhand.test").count() == 5
    assert _sign_in(client, "admin@deskhand.test").status_code == 429


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
