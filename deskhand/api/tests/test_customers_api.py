from __future__ import annotations

from typing import Any

import pytest

from deskhand.conftest import ApiClient


def test_post_needs_only_an_email_and_files_by_domain(api: ApiClient) -> None:
    response = api.post("/customers", {"email": " Ana@ACME.com "})
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "Ana@acme.com" and body["organization_name"] == "acme.com"
    assert body["source"] == "api" and body["custom_fields"] == {} and body["placed_manually"] is False
    assert set(body) >= {"id", "email", "name", "phone", "organization", "organization_name", "customer_type",
                         "custom_fields", "source", "created_at"}


def test_duplicate_email_is_a_409(api: ApiClient) -> None:
    api.post("/customers", {"email": "ana@acme.com"})
    response = api.post("/customers", {"email": "ANA@acme.com"})
    assert response.status_code == 409
    assert response.json()["field"] == "email"


def test_list_shape_search_and_organization_filter(api: ApiClient) -> None:
    ana = api.post("/customers", {"email": "ana@acme.com", "name": "Ana Smith"}).json()
    api.post("/customers", {"email": "bob@acme.com"})
    api.post("/customers", {"email": "cy@gmail.com"})
    listing = api.get("/customers").json()
    assert listing["count"] == 3 and len(listing["items"]) == 3
    assert [c["email"] for c in api.get("/customers", {"search": "smith"}).json()["items"]] == ["ana@acme.com"]
    org_id = ana["organization"]
    assert api.get("/customers", {"organization": org_id}).json()["count"] == 2
    assert [c["email"] for c in api.get("/customers", {"organization": "none"}).json()["items"]] == ["cy@gmail.com"]
    page = api.get("/customers", {"page": 2, "page_size": 2}).json()
    assert page["count"] == 3 and len(page["items"]) == 1
    assert api.get("/customers", {"page": 9}).json() == {"items": [], "count": 3}


def test_patch_organization_is_a_manual_move_and_null_means_no_organization(api: ApiClient) -> None:
    ana = api.post("/customers", {"email": "ana@acme.com"}).json()
    other = api.post("/organizations", {"name": "Other"}).json()
    moved = api.patch(f"/customers/{ana['id']}", {"organization": other["id"]}).json()
    assert moved["organization"] == other["id"] and moved["placed_manually"] is True
    nowhere = api.patch(f"/customers/{ana['id']}", {"organization": None}).json()
    assert nowhere["organization"] is None and nowhere["organization_name"] is None


def test_post_with_organization_null_places_in_no_organization(api: ApiClient) -> None:
    body = api.post("/customers", {"email": "ana@acme.com", "organization": None}).json()
    assert body["organization"] is None and body["placed_manually"] is True
    assert api.get("/organizations").json()["count"] == 0


def test_get_patch_delete(api: ApiClient) -> None:
    ana = api.post("/customers", {"email": "ana@acme.com"}).json()
    assert api.get(f"/customers/{ana['id']}").json()["email"] == "ana@acme.com"
    patched = api.patch(f"/customers/{ana['id']}", {"name": "Ana", "phone": "+1 555 0100"}).json()
    assert (patched["name"], patched["phone"]) == ("Ana", "+1 555 0100")
    assert api.delete(f"/customers/{ana['id']}").status_code == 204
    assert api.get(f"/customers/{ana['id']}").status_code == 404


def test_merge(api: ApiClient) -> None:
    old = api.post("/customers", {"email": "ana@old.com", "name": "Ana"}).json()
    new = api.post("/customers", {"email": "ana@new.com"}).json()
    merged = api.post(f"/customers/{old['id']}/merge", {"into": new["id"]})
    assert merged.status_code == 200 and merged.json()["id"] == new["id"] and merged.json()["name"] == "Ana"
    assert api.get(f"/customers/{old['id']}").status_code == 404
    assert api.post("/customers", {"email": "ana@old.com"}).status_code == 409
    assert api.post(f"/customers/{new['id']}/merge", {"into": new["id"]}).status_code == 422
    assert api.post(f"/customers/{new['id']}/merge", {"into": 99999}).json()["field"] == "into"


def test_events_show_who_changed_what(api: ApiClient) -> None:
    ana = api.post("/customers", {"email": "ana@acme.com"}).json()
    api.patch(f"/customers/{ana['id']}", {"name": "Ana"})
    events = api.get(f"/customers/{ana['id']}/events").json()["items"]
    assert [e["action"] for e in events] == ["customer.updated", "customer.created"]
    assert events[0]["actor_kind"] == "token" and "admin@deskhand.test" in events[0]["actor"]
    assert events[0]["detail"]["name"] == {"old": "", "new": "Ana"}


def test_custom_fields_and_types_through_the_api(api: ApiClient) -> None:
    assert api.post("/custom-fields", {"applies_to": "customer", "label": "Seats", "type": "number"}).status_code == 201
    assert api.post("/customer-types", {"name": "VIP", "color": "#ff0000"}).status_code == 201
    body = api.post("/customers", {"email": "ana@acme.com", "customer_type": "VIP",
                                   "custom_fields": {"seats": "12"}}).json()
    assert body["customer_type"] == "VIP" and body["custom_fields"] == {"seats": 12}
    bad = api.patch(f"/customers/{body['id']}", {"custom_fields": {"seats": "many"}})
    assert bad.status_code == 422 and bad.json()["field"] == "custom_fields.seats"


@pytest.mark.parametrize("path", ["/customers", "/organizations", "/settings", "/agents", "/teams",
                                  "/customer-types", "/custom-fields"])
def test_no_or_bad_token_is_a_401(db: Any, client: Any, path: str) -> None:
    assert client.get(f"/api/v1{path}").status_code == 401
    response = client.get(f"/api/v1{path}", headers={"Authorization": "Bearer dh_wrong"})
    assert response.status_code == 401 and response.json() == {
        "detail": "A valid API token is required: Authorization: Bearer <token>.", "field": None}


def test_openapi_is_served_without_a_token(db: Any, client: Any) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/customers" in response.json()["paths"]


def test_list_query_count_does_not_grow_with_page_size_or_data(api: ApiClient, django_assert_max_num_queries: Any) -> None:
    for index in range(30):
        api.post("/customers", {"email": f"person{index}@company{index % 7}.com", "name": f"P {index}"})
    api.post("/customer-types", {"name": "VIP"})
    with django_assert_max_num_queries(6) as small:
        api.get("/customers", {"page_size": 5})
    with django_assert_max_num_queries(len(small.captured_queries)):
        api.get("/customers", {"page_size": 500})
    with django_assert_max_num_queries(7) as organizations:
        api.get("/organizations", {"page_size": 2})
    with django_assert_max_num_queries(len(organizations.captured_queries)):
        api.get("/organizations", {"page_size": 500})
