"""The portal's sign-up, verification, sign-in and links, as a customer's browser meets them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.test import Client

from deskhand.accounts.models import CustomerAccount
from deskhand.customers.models import Customer, Organization
from deskhand.mail.models import OutboundMessage
from deskhand.portal.sessions import COOKIE
from deskhand.portal.tests.conftest import PASSWORD, last_link


def test_register_verify_in_the_same_browser_and_land_on_the_list(client: Client, acme: Organization) -> None:
    page = client.get("/portal/register")
    assert page.status_code == 200 and "Create account" in page.content.decode()
    response = client.post("/portal/register", {"email": "zoe@acme.example", "name": "Zoë", "password": PASSWORD})
    assert response.status_code == 200 and "Check your mail" in response.content.decode()
    assert Customer.objects.get(email_key="zoe@acme.example").organization == acme
    landed = client.get(last_link("zoe@acme.example"), follow=True)
    assert landed.redirect_chain[-1][0] == "/portal/" and "Requests" in landed.content.decode()
    assert COOKIE in client.cookies and "sessionid" not in client.cookies  # not an agents' session
    other = Client()
    assert other.post("/portal/login", {"email": "zoe@acme.example", "password": PASSWORD}).status_code == 302


def test_the_link_in_another_browser_asks_for_a_password(client: Client, db: Any) -> None:
    client.post("/portal/register", {"email": "zoe@acme.example", "name": "Zoë", "password": PASSWORD})
    elsewhere = Client()
    response = elsewhere.get(last_link("zoe@acme.example"))
    assert response.status_code == 302 and response["Location"] == "/portal/password"
    chosen = elsewhere.post("/portal/password", {"password": "another-harbour-42"})
    assert chosen.status_code == 302
    assert Client().post("/portal/login", {"email": "zoe@acme.example", "password": PASSWORD}).status_code == 400


def test_a_known_address_sees_the_same_page(client: Client, make_customer: Callable[..., CustomerAccount]) -> None:
    make_customer("zoe@acme.example")
    known = client.post("/portal/register", {"email": "zoe@acme.example", "name": "X", "password": "other-words-55"})
    fresh = Client().post("/portal/register", {"email": "new@acme.example", "name": "X", "password": "other-words-55"})
    assert known.status_code == fresh.status_code == 200

    def page(response: Any) -> str:  # the footer's CSRF token is masked afresh on every page
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())

    assert page(known).replace("zoe@", "new@") == page(fresh).replace("zoe@", "new@")


def test_bad_registrations_show_the_field_and_store_nothing(client: Client, db: Any) -> None:
    for data, words in [({"email": "nope", "name": "A", "password": PASSWORD}, "valid"),
                        ({"email": "a@b.example", "name": "A", "password": "123"}, "too short")]:
        response = client.post("/portal/register", data)
        assert response.status_code == 422 and words in response.content.decode(), response.content.decode()[:300]
    assert not Customer.objects.exists() and not OutboundMessage.objects.exists()


def test_sign_in_failures_are_limited(client: Client, make_customer: Callable[..., CustomerAccount]) -> None:
    make_customer("zoe@acme.example")
    statuses = [client.post("/portal/login", {"email": "zoe@acme.example", "password": "wrong-one-1"}).status_code
                for _ in range(6)]
    assert statuses[:5] == [400] * 5 and statuses[5] == 429
    assert client.post("/portal/login", {"email": "zoe@acme.example", "password": PASSWORD}).status_code == 429


def test_sign_in_link_and_sign_out(client: Client, make_customer: Callable[..., CustomerAccount]) -> None:
    make_customer("zoe@acme.example")
    assert client.get("/portal/").status_code == 302  # not signed in
    page = client.post("/portal/send/sign-in", {"email": "zoe@acme.example"})
    unknown = client.post("/portal/send/sign-in", {"email": "ghost@acme.example"})
    assert page.status_code == unknown.status_code == 200 and "If zoe@acme.example belongs" in page.content.decode()
    link = last_link("zoe@acme.example")
    assert client.get(link).status_code == 302 and client.get("/portal/").status_code == 200
    assert Client().get(link).status_code == 410  # once
    client.post("/portal/logout")
    assert client.get("/portal/").status_code == 302


def test_reset_link_sets_a_new_password_and_ends_other_sessions(
        portal_client: Callable[[CustomerAccount], Client], make_customer: Callable[..., CustomerAccount]) -> None:
    account = make_customer("zoe@acme.example")
    old_session = portal_client(account)
    browser = Client()
    browser.post("/portal/send/reset", {"email": "zoe@acme.example"})
    assert browser.get(last_link("zoe@acme.example"))["Location"] == "/portal/password"
    assert browser.post("/portal/password", {"password": "brand-new-harbour-9"}).status_code == 302
    assert browser.get("/portal/").status_code == 200
    assert old_session.get("/portal/").status_code == 302  # signed out by the new password


def test_tampered_links_get_a_clear_page(client: Client, db: Any) -> None:
    for path in ("/portal/verify/abc", "/portal/link/abc:def", "/portal/password/" + "x" * 3000):
        response = client.get(path)
        assert response.status_code == 404 and "This link does not work" in response.content.decode()


def test_next_never_leaves_the_portal(client: Client, make_customer: Callable[..., CustomerAccount]) -> None:
    make_customer("zoe@acme.example")
    for target in ("https://evil.example/", "//evil.example", "/admin/automations"):
        response = client.post("/portal/login", {"email": "zoe@acme.example", "password": PASSWORD, "next": target})
        assert response["Location"] == "/portal/", target
        client.post("/portal/logout")


def test_a_second_registration_of_the_address_gets_no_password_in(db: Any) -> None:
    owner, stranger = Client(), Client(REMOTE_ADDR="10.9.9.9")
    owner.post("/portal/register", {"email": "vic@acme.example", "name": "Vic", "password": PASSWORD})
    first = last_link("vic@acme.example")
    stranger.post("/portal/register", {"email": "vic@acme.example", "name": "Vic", "password": "stranger-pass-99"})
    assert owner.get(first).status_code == 410
    assert owner.get(last_link("vic@acme.example"))["Location"] == "/portal/password"  # signed in, no password
    for password in (PASSWORD, "stranger-pass-99"):
        assert Client().post("/portal/login", {"email": "vic@acme.example", "password": password}).status_code == 400


def test_one_client_cannot_send_portal_mail_to_many_addresses(client: Client, db: Any) -> None:
    from deskhand.portal.views.auth import MAILS_PER_CLIENT

    statuses = [client.post("/portal/register", {"email": f"p{n}@acme.example", "name": "P",
                                                 "password": PASSWORD}).status_code
                for n in range(MAILS_PER_CLIENT + 2)]
    assert statuses[:MAILS_PER_CLIENT] == [200] * MAILS_PER_CLIENT and statuses[MAILS_PER_CLIENT:] == [429, 429]
    assert client.post("/portal/send/reset", {"email": "p1@acme.example"}).status_code == 429
    assert Client(REMOTE_ADDR="10.1.1.1").post("/portal/send/reset", {"email": "p1@acme.example"}).status_code == 200
