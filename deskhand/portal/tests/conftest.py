from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from deskhand.accounts import services
from deskhand.accounts.inputs import Registration
from deskhand.accounts.models import CustomerAccount
from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Organization
from deskhand.customers.services import create_organization
from deskhand.testing.mail import last_link

PASSWORD = "quiet-harbour-41"
__all__ = ["PASSWORD", "last_link"]


@pytest.fixture
def acme(db: Any) -> Organization:
    return create_organization("Acme", domains=["acme.example"], actor=SYSTEM)


@pytest.fixture
def globex(db: Any) -> Organization:
    return create_organization("Globex", domains=["globex.example"], actor=SYSTEM)


@pytest.fixture
def make_customer(db: Any) -> Callable[..., CustomerAccount]:
    """A registered, verified customer with PASSWORD."""

    def make(email: str, name: str = "") -> CustomerAccount:
        registered = services.register(Registration(email=email, name=name or email.split("@")[0].title(),
                                                    password=PASSWORD))
        token = last_link(email).rstrip("/").rsplit("/", 1)[1]
        return services.verify(token, mark=registered.mark)

    return make


@pytest.fixture
def portal_client(db: Any) -> Callable[[CustomerAccount], Client]:
    """A browser signed in to the portal as this customer."""

    def signed_in(account: CustomerAccount) -> Client:
        client = Client()
        response = client.post("/portal/login", {"email": account.customer.email, "password": PASSWORD})
        assert response.status_code == 302, response.content.decode()[:500]
        return client

    return signed_in

