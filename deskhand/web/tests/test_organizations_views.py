from __future__ import annotations

from typing import Any

from django.test import Client

from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Customer, Organization, OrganizationDomain, Source
from deskhand.customers.services import create_customer, create_organization


def test_add_organization_with_domains(agent_client: Client) -> None:
    response = agent_client.post("/organizations/new", {"name": "Acme Inc.", "domains": "@ACME.com, acme.de"})
    organization = Organization.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/organizations/{organization.pk}"
    assert sorted(organization.domains.values_list("domain", flat=True)) == ["acme.com", "acme.de"]


def test_add_organization_errors(agent_client: Client) -> None:
    response = agent_client.post("/organizations/new", {"name": "", "domains": ""})
    assert response.status_code == 422
    response = agent_client.post("/organizations/new", {"name": "Brits", "domains": "co.uk"})
    assert response.status_code == 422 and "public suffix" in response.content.decode()
    assert 'value="Brits"' in response.content.decode()
    assert not Organization.objects.exists()


def test_adding_a_domain_previews_unassigned_customers_then_moves_them_on_request(agent_client: Client) -> None:
    update_settings({"auto_create_organizations": False}, actor=SYSTEM)
    create_customer("ana@acme.com", source=Source.EMAIL, actor=SYSTEM)
    organization = create_organization("Acme", actor=SYSTEM)
    preview = agent_client.post(f"/organizations/{organization.pk}/domains", {"domain": "ACME.com", "step": "preview"})
    page = preview.content.decode()
    assert "1 customer of this domain is in No organization" in page and "ana@acme.com" in page
    assert not OrganizationDomain.objects.exists()
    agent_client.post(f"/organizations/{organization.pk}/domains", {"domain": "acme.com", "apply_to_existing": "on"})
    assert Customer.objects.get().organization == organization


def test_a_taken_domain_is_refused_on_the_page(agent_client: Client) -> None:
    create_organization("Acme", domains=["acme.com"], actor=SYSTEM)
    other = create_organization("Other", actor=SYSTEM)
    response = agent_client.post(f"/organizations/{other.pk}/domains", {"domain": "acme.com", "step": "preview"})
    response = agent_client.post(f"/organizations/{other.pk}/domains", {"domain": "acme.com"})
    assert response.status_code == 409 and "belongs to" in response.content.decode()


def test_a_taken_domain_is_refused_at_the_preview_before_any_confirmation(agent_client: Client) -> None:
    create_organization("Acme", domains=["acme.com"], actor=SYSTEM)
    other = create_organization("Other", actor=SYSTEM)
    response = agent_client.post(f"/organizations/{other.pk}/domains", {"domain": "ACME.com", "step": "preview"})
    page = response.content.decode()
    assert response.status_code == 409 and "acme.com belongs to “Acme”." in page
    assert "Add acme.com" not in page and "join Other" not in page
    # A subdomain of an owned domain is free to own: the preview offers it.
    response = agent_client.post(f"/organizations/{other.pk}/domains", {"domain": "eu.acme.com", "step": "preview"})
    assert response.status_code == 200 and "Add eu.acme.com" in response.content.decode()


def test_profile_members_edit_and_domain_removal(agent_client: Client) -> None:
    organization = create_organization("Acme", domains=["acme.com"], actor=SYSTEM)
    create_customer("ana@acme.com", source=Source.API, actor=SYSTEM)
    page = agent_client.get(f"/organizations/{organization.pk}").content.decode()
    assert "ana@acme.com" in page and "Email domains" in page and "organization.created" not in page
    assert "Deskhand created Acme with the domain acme.com." in page
    agent_client.post(f"/organizations/{organization.pk}", {"name": "Acme Corp"})
    organization.refresh_from_db()
    assert organization.name == "Acme Corp"
    agent_client.post(f"/organizations/{organization.pk}/domains/acme.com/delete")
    assert not organization.domains.exists() and Customer.objects.get().organization == organization


def test_delete_keeps_customers_after_a_confirmation(agent_client: Client) -> None:
    organization = create_organization("Acme", domains=["acme.com"], actor=SYSTEM)
    create_customer("ana@acme.com", source=Source.API, actor=SYSTEM)
    confirm = agent_client.get(f"/organizations/{organization.pk}/delete").content.decode()
    assert "will stay, in No organization" in confirm
    response = agent_client.post(f"/organizations/{organization.pk}/delete")
    assert response.status_code == 302 and not Organization.objects.exists()
    assert Customer.objects.get().organization is None


def test_merge_organizations_after_a_review(agent_client: Client) -> None:
    old = create_organization("Acme old", domains=["acme-old.com"], actor=SYSTEM)
    survivor = create_organization("Acme", actor=SYSTEM)
    review = agent_client.get(f"/organizations/{old.pk}/merge", {"into": "acme"}).content.decode()
    assert "will move to" in review and "acme-old.com" in review
    agent_client.post(f"/organizations/{old.pk}/merge", {"into": "Acme", "confirm": "yes"})
    assert list(Organization.objects.all()) == [survivor]
    assert survivor.domains.get().domain == "acme-old.com"


def test_unknown_organization_is_404(agent_client: Client, db: Any) -> None:
    assert agent_client.get("/organizations/999999").status_code == 404


def test_organization_profile_query_count_does_not_grow(agent_client: Client,
                                                        django_assert_max_num_queries: Any) -> None:
    organization = create_organization("Acme", domains=["acme.com"], actor=SYSTEM)
    for index in range(5):
        create_customer(f"p{index}@acme.com", source=Source.API, actor=SYSTEM)
    with django_assert_max_num_queries(20) as few:
        agent_client.get(f"/organizations/{organization.pk}")
    for index in range(5, 80):
        create_customer(f"p{index}@acme.com", source=Source.API, actor=SYSTEM)
    with django_assert_max_num_queries(len(few.captured_queries)):
        agent_client.get(f"/organizations/{organization.pk}")
