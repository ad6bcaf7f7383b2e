from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from deskhand.audit.models import AuditEvent
from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Customer, Organization, Source
from deskhand.customers.services import create_customer, create_organization, delete_organization
from deskhand.fields.services import create_custom_field


def _customer(email: str, **kwargs: Any) -> Customer:
    return create_customer(email, source=Source.API, actor=SYSTEM, **kwargs)


def test_customers_are_grouped_with_no_organization_always_visible(agent_client: Client) -> None:
    page = agent_client.get("/customers").content.decode()
    assert "No organization" in page and "Add customer" in page
    _customer("ana@acme.com")
    _customer("cy@gmail.com")
    page = agent_client.get("/customers").content.decode()
    assert "acme.com" in page and "cy@gmail.com" in page
    members = agent_client.get(f"/customers/groups/{Organization.objects.get().pk}").content.decode()
    assert "ana@acme.com" in members


def test_search_by_name_email_or_domain(agent_client: Client) -> None:
    _customer("ana@acme.com", name="Ana Smith")
    _customer("bob@globex.io")
    page = agent_client.get("/customers", {"q": "smith"}).content.decode()
    assert "ana@acme.com" in page and "bob@globex.io" not in page
    page = agent_client.get("/customers", {"q": "globex.io"}).content.decode()
    assert "bob@globex.io" in page and "ana@acme.com" not in page


def test_add_customer_files_by_domain(agent_client: Client) -> None:
    response = agent_client.post("/customers/new", {"email": "Ana@ACME.com"})
    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}"
    assert customer.organization.name == "acme.com" and customer.source == "agent"


def test_add_customer_errors_stay_next_to_the_field_and_keep_the_input(agent_client: Client) -> None:
    response = agent_client.post("/customers/new", {"email": "not-an-address", "name": "Ana"})
    page = response.content.decode()
    assert response.status_code == 422 and 'class="field-error"' in page and 'value="Ana"' in page
    _customer("bob@acme.com")
    response = agent_client.post("/customers/new", {"email": "BOB@acme.com"})
    assert response.status_code == 422 and "already exists" in response.content.decode()
    response = agent_client.post("/customers/new", {"email": "cy@acme.com", "organization": "Nope Inc"})
    assert response.status_code == 422 and "There is no organization named" in response.content.decode()
    assert Customer.objects.count() == 1


def test_required_custom_fields_appear_and_are_enforced(agent_client: Client) -> None:
    create_custom_field(applies_to="customer", label="Account", type="text", required=True, actor=SYSTEM)
    assert "Account *" in agent_client.get("/customers/new").content.decode()
    response = agent_client.post("/customers/new", {"email": "ana@acme.com"})
    assert response.status_code == 422 and "Account is required" in response.content.decode()
    response = agent_client.post("/customers/new", {"email": "ana@acme.com", "cf_account": "A-1"})
    assert response.status_code == 302 and Customer.objects.get().custom_fields == {"account": "A-1"}


def test_drag_and_drop_move_is_manual_and_audited(agent_client: Client) -> None:
    ana = _customer("ana@acme.com")
    other = create_organization("Other", actor=SYSTEM)
    response = agent_client.post(f"/customers/{ana.pk}/move", {"organization": str(other.pk)},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200 and "moved to Other" in response["HX-Trigger"]
    ana.refresh_from_db()
    assert ana.organization == other and ana.placed_manually
    response = agent_client.post(f"/customers/{ana.pk}/move", {"organization": "none"},
                                 headers={"HX-Request": "true"})
    ana.refresh_from_db()
    assert response.status_code == 200 and ana.organization is None
    assert AuditEvent.objects.filter(action="customer.moved", object_id=ana.pk).count() == 2


def test_a_drop_on_a_deleted_organization_leaves_the_customer_where_they_were(agent_client: Client) -> None:
    ana = _customer("ana@acme.com")
    stale = create_organization("Stale", actor=SYSTEM)
    stale_id = stale.pk
    delete_organization(stale, actor=SYSTEM)
    response = agent_client.post(f"/customers/{ana.pk}/move", {"organization": str(stale_id)},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 409 and "no longer exists" in response["HX-Trigger"]
    ana.refresh_from_db()
    assert ana.organization.name == "acme.com"


def test_move_to_menu_takes_a_name(agent_client: Client) -> None:
    ana = _customer("ana@acme.com")
    create_organization("Globex", actor=SYSTEM)
    response = agent_client.post(f"/customers/{ana.pk}/move", {"organization": "globex", "next": "/customers"})
    ana.refresh_from_db()
    assert response.status_code == 302 and ana.organization.name == "Globex"
    agent_client.post(f"/customers/{ana.pk}/move", {"organization": "No organization"})
    ana.refresh_from_db()
    assert ana.organization is None


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_a_move_never_sends_the_agent_to_another_site(agent_client: Client, target: str) -> None:
    ana = _customer("ana@acme.com")
    response = agent_client.post(f"/customers/{ana.pk}/move", {"organization": "No organization", "next": target})
    assert response.status_code == 302 and response["Location"] == f"/customers/{ana.pk}"


def test_profile_shows_the_configured_panel_and_history_and_saves(agent_client: Client) -> None:
    ana = _customer("ana@acme.com", name="Ana")
    page = agent_client.get(f"/customers/{ana.pk}").content.decode()
    assert "History" in page and "customer.created" not in page and "filed by the domain rule" in page
    assert "Deskhand added Ana through the API to acme.com." in page
    response = agent_client.post(f"/customers/{ana.pk}", {"email": "ana@acme.com", "name": "Ana Smith",
                                                            "phone": "bad phone!"})
    assert response.status_code == 422 and "phone number" in response.content.decode()
    response = agent_client.post(f"/customers/{ana.pk}", {"email": "ana@acme.com", "name": "Ana Smith"})
    ana.refresh_from_db()
    assert response.status_code == 302 and ana.name == "Ana Smith"


def test_merge_customers_asks_first(agent_client: Client) -> None:
    old = _customer("ana@old.com", name="Ana")
    new = _customer("ana@new.com")
    review = agent_client.get(f"/customers/{old.pk}/merge", {"into": "ana@new.com"}).content.decode()
    assert "will be merged into" in review and "cannot be undone" in review
    old.refresh_from_db()
    assert old.merged_into is None
    response = agent_client.post(f"/customers/{old.pk}/merge", {"into": "ana@new.com", "confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == f"/customers/{new.pk}"
    assert agent_client.get(f"/customers/{old.pk}").status_code == 404


def test_customers_page_query_count_does_not_grow(agent_client: Client, django_assert_max_num_queries: Any) -> None:
    for index in range(12):
        _customer(f"p{index}@company{index}.com")
        _customer(f"free{index}@gmail.com")
    with django_assert_max_num_queries(12) as few:
        agent_client.get("/customers")
    for index in range(12, 60):
        _customer(f"p{index}@company{index}.com")
        _customer(f"free{index}@gmail.com")
    with django_assert_max_num_queries(len(few.captured_queries)):
        agent_client.get("/customers")
    with django_assert_max_num_queries(len(few.captured_queries)):
        agent_client.get("/customers", {"q": "company"})


def test_group_pages_start_at_the_given_offset(agent_client: Client) -> None:
    for index in range(30):
        _customer(f"p{index:02d}@gmail.com")
    first = agent_client.get("/customers/groups/none", {"offset": "0"}).content.decode()
    assert "p00@gmail.com" in first and "Show more" in first and "p25@gmail.com" not in first
    assert "p00@gmail.com" in agent_client.get("/customers/groups/none", {"offset": "x"}).content.decode()
    rest = agent_client.get("/customers/groups/none", {"offset": "25"}).content.decode()
    assert "p25@gmail.com" in rest and "p00@gmail.com" not in rest and "Show more" not in rest
    assert agent_client.get("/customers/groups/abc").status_code == 404
