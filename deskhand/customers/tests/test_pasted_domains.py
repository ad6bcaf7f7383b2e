"""A web address pasted where a domain is asked for is cleaned to the domain: the pure rule, and
"add domain" in the web app and the API reaching it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from deskhand.core.actors import SYSTEM
from deskhand.core.errors import Invalid
from deskhand.customers.domains import domain_from_pasted
from deskhand.customers.models import OrganizationDomain
from deskhand.customers.services import add_domain, check_domain, create_organization


@pytest.mark.parametrize(("pasted", "domain"), [
    ("https://www.foo.com/", "foo.com"), ("http://foo.com/path?x=1#top", "foo.com"), ("www.foo.com", "foo.com"),
    ("HTTPS://WWW.Foo.COM", "foo.com"), ("https://user:pw@shop.foo.co.uk:8443/a", "shop.foo.co.uk"),
    ("foo.com/contact", "foo.com"), ("https://www.bücher.de/", "bücher.de"),
    ("www.com", "www.com"), ("foo.com", "foo.com"), ("@foo.com", "@foo.com"), ("ana@foo.com", "ana@foo.com"),
])
def test_a_pasted_address_becomes_its_host(pasted: str, domain: str) -> None:
    assert domain_from_pasted(pasted) == domain


@pytest.mark.parametrize(("pasted", "stored"), [
    ("https://www.foo.com/", "foo.com"), ("http://foo.com/path", "foo.com"), ("www.foo.com", "foo.com"),
    ("https://www.bücher.de/shop", "xn--bcher-kva.de"),
])
def test_the_domain_rule_cleans_pasted_addresses(db: Any, pasted: str, stored: str) -> None:
    assert check_domain(pasted) == stored


@pytest.mark.parametrize("pasted", ["https:///", "http://", "https://gmail.com/", "https://co.uk/x"])
def test_what_is_left_is_still_judged(db: Any, pasted: str) -> None:
    with pytest.raises(Invalid):
        check_domain(pasted)


def test_add_domain_in_the_web_app_takes_a_pasted_address(agent_client: Client) -> None:
    acme = create_organization("Acme", actor=SYSTEM)
    response = agent_client.post(f"/organizations/{acme.pk}/domains", {"domain": "https://www.foo.com/"})
    assert response.status_code == 302
    assert list(OrganizationDomain.objects.values_list("domain", flat=True)) == ["foo.com"]


def test_add_domain_in_the_api_takes_a_pasted_address(api: Any) -> None:
    org = api.post("/organizations", {"name": "Acme", "domains": ["www.acme.example"]}).json()
    assert org["domains"] == ["acme.example"]
    added = api.post(f"/organizations/{org['id']}/domains", {"domain": "http://foo.com/path"})
    assert added.status_code == 201 and added.json()["domain"] == "foo.com"
    assert api.delete(f"/organizations/{org['id']}/domains/www.foo.com").status_code == 204


def test_the_service_stores_the_clean_domain(db: Any) -> None:
    acme = create_organization("Acme", domains=["https://www.acme.example/about"], actor=SYSTEM)
    assert add_domain(acme, "http://acme.example/", actor=SYSTEM) == ("acme.example", 0)
    assert list(acme.domains.values_list("domain", flat=True)) == ["acme.example"]
