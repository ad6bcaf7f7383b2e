from __future__ import annotations

from deskhand.conftest import ApiClient


def test_create_with_domains_and_read_back(api: ApiClient) -> None:
    response = api.post("/organizations", {"name": "Acme", "domains": ["@ACME.com", "bücher.de"]})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Acme" and sorted(body["domains"]) == ["acme.com", "xn--bcher-kva.de"]
    assert body["customer_count"] == 0 and body["custom_fields"] == {}
    api.post("/customers", {"email": "ana@acme.com"})
    assert api.get(f"/organizations/{body['id']}").json()["customer_count"] == 1


def test_search_matches_name_and_domains(api: ApiClient) -> None:
    api.post("/organizations", {"name": "Acme", "domains": ["acme.com"]})
    api.post("/organizations", {"name": "Globex", "domains": ["globex.io"]})
    assert [o["name"] for o in api.get("/organizations", {"search": "glob"}).json()["items"]] == ["Globex"]
    assert [o["name"] for o in api.get("/organizations", {"search": "@acme.com"}).json()["items"]] == ["Acme"]


def test_domain_endpoints(api: ApiClient) -> None:
    org = api.post("/organizations", {"name": "Acme"}).json()
    api.patch("/settings", {"auto_create_organizations": False})
    stray = api.post("/customers", {"email": "ana@acme.com"}).json()
    added = api.post(f"/organizations/{org['id']}/domains", {"domain": "ACME.com", "apply_to_existing": True})
    assert added.status_code == 201 and added.json() == {"domain": "acme.com", "organization": org["id"],
                                                          "moved_customers": 1}
    assert api.get(f"/customers/{stray['id']}").json()["organization"] == org["id"]
    other = api.post("/organizations", {"name": "Other"}).json()
    taken = api.post(f"/organizations/{other['id']}/domains", {"domain": "acme.com"})
    assert taken.status_code == 409 and taken.json()["field"] == "domain"
    assert api.delete(f"/organizations/{org['id']}/domains/acme.com").status_code == 204
    assert api.delete(f"/organizations/{org['id']}/domains/acme.com").status_code == 404
    assert api.get(f"/organizations/{org['id']}").json()["domains"] == []


def test_delete_keeps_customers(api: ApiClient) -> None:
    ana = api.post("/customers", {"email": "ana@acme.com"}).json()
    assert api.delete(f"/organizations/{ana['organization']}").status_code == 204
    assert api.get(f"/customers/{ana['id']}").json()["organization"] is None
    assert api.get(f"/organizations/{ana['organization']}").status_code == 404


def test_merge_moves_domains_and_customers(api: ApiClient) -> None:
    ana = api.post("/customers", {"email": "ana@acme.com"}).json()
    survivor = api.post("/organizations", {"name": "Acme Corp", "domains": ["acme.de"]}).json()
    merged = api.post(f"/organizations/{ana['organization']}/merge", {"into": survivor["id"]})
    assert merged.status_code == 200
    assert sorted(merged.json()["domains"]) == ["acme.com", "acme.de"] and merged.json()["customer_count"] == 1
    assert api.get(f"/customers/{ana['id']}").json()["organization"] == survivor["id"]
    events = api.get(f"/organizations/{survivor['id']}/events").json()["items"]
    assert events[0]["action"] == "organization.merged"


def test_patch_name_and_custom_fields(api: ApiClient) -> None:
    api.post("/custom-fields", {"applies_to": "organization", "label": "Tier", "type": "choice",
                                "choices": ["Gold", "Silver"]})
    org = api.post("/organizations", {"name": "Acme"}).json()
    patched = api.patch(f"/organizations/{org['id']}", {"name": "Acme Inc.", "custom_fields": {"tier": "gold"}})
    assert patched.json()["name"] == "Acme Inc." and patched.json()["custom_fields"] == {"tier": "Gold"}
    api.post("/organizations", {"name": "Globex"})
    clash = api.patch(f"/organizations/{org['id']}", {"name": "GLOBEX"})
    assert clash.status_code == 409 and clash.json()["field"] == "name"
