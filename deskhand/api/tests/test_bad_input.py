"""Every invalid value gets a 422 with the field (or 409 / 404), never a 500, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.audit.models import AuditEvent
from deskhand.conftest import ApiClient
from deskhand.customers.models import Customer, Organization, OrganizationDomain


@pytest.fixture
def org(api: ApiClient) -> dict[str, Any]:
    created: dict[str, Any] = api.post("/organizations", {"name": "Acme", "domains": ["acme.com"]}).json()
    return created


def _snapshot() -> tuple[int, int, int, int]:
    return (Customer.objects.count(), Organization.objects.count(), OrganizationDomain.objects.count(),
            AuditEvent.objects.count())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": ""}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": "a" * 65 + "@acme.com"}, "email"),
        ({"email": "ana@" + "x" * 250 + ".com"}, "email"),
        ({"email": 42}, "email"),
        ({}, "email"),
        ({"email": "ana@acme.com", "name": "x" * 201}, "name"),
        ({"email": "ana@acme.com", "phone": "<script>"}, "phone"),
        ({"email": "ana@acme.com", "organization": 999999}, "organization"),
        ({"email": "ana@acme.com", "organization": "acme"}, "organization"),
        ({"email": "ana@acme.com", "customer_type": "Nope"}, "customer_type"),
        ({"email": "ana@acme.com", "custom_fields": {"nope": 1}}, "custom_fields.nope"),
        ({"email": "ana@acme.com", "custom_fields": "x"}, "custom_fields"),
    ],
)
def test_bad_customers(api: ApiClient, org: dict[str, Any], body: dict[str, Any], field: str) -> None:
    before = _snapshot()
    response = api.post("/customers", body)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field and response.json()["detail"]
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": ""}, 422, "name"),
        ({"name": "   "}, 422, "name"),
        ({"name": None}, 422, "name"),
        ({"name": "Globex", "domains": ["com"]}, 422, "domains"),
        ({"name": "Globex", "domains": ["a..b"]}, 422, "domains"),
        ({"name": "Globex", "domains": ["co.uk"]}, 422, "domains"),
        ({"name": "Globex", "domains": ["gmail.com"]}, 422, "domains"),
        ({"name": "Globex", "domains": "globex.com"}, 422, "domains"),
        ({"name": "Globex", "domains": ["acme.com"]}, 409, "domain"),
        ({"name": "ACME"}, 409, "name"),
        ({"name": "Globex", "custom_fields": {"nope": "x"}}, 422, "custom_fields.nope"),
    ],
)
def test_bad_organizations(api: ApiClient, org: dict[str, Any], body: dict[str, Any], status: int, field: str) -> None:
    before = _snapshot()
    response = api.post("/organizations", body)
    assert response.status_code == status, response.content
    assert response.json()["field"] == field
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("domain", "status"),
    [("com", 422), ("a..b", 422), ("co.uk", 422), ("gmail.com", 422), ("outlook.com", 422), ("", 422),
     ("x" * 300, 422), ("ACME.com", 201)],
)
def test_bad_domains(api: ApiClient, org: dict[str, Any], domain: str, status: int) -> None:
    other = api.post("/organizations", {"name": "Other"}).json()
    response = api.post(f"/organizations/{other['id']}/domains", {"domain": domain})
    expected = 409 if domain == "ACME.com" else status
    assert response.status_code == expected
    assert response.json()["field"] == "domain"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/customers/999999", None), ("patch", "/customers/999999", {"name": "x"}),
        ("delete", "/customers/999999", None), ("post", "/customers/999999/merge", {"into": 1}),
        ("get", "/organizations/999999", None), ("patch", "/organizations/999999", {"name": "x"}),
        ("delete", "/organizations/999999", None), ("post", "/organizations/999999/domains", {"domain": "x.com"}),
        ("delete", "/organizations/999999/domains/x.com", None), ("post", "/organizations/999999/merge", {"into": 1}),
        ("patch", "/customer-types/999999", {"name": "x"}), ("delete", "/custom-fields/999999", None),
    ],
)
def test_unknown_ids_are_404(api: ApiClient, method: str, path: str, body: Any) -> None:
    response = getattr(api, method)(path, body) if body is not None else getattr(api, method)(path)
    assert response.status_code == 404 and response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"page_size": 501}, "page_size"), ({"page_size": 0}, "page_size"), ({"page": 0}, "page"),
     ({"page": "x"}, "page"), ({"organization": "acme"}, "organization")],
)
def test_bad_list_parameters(api: ApiClient, params: dict[str, Any], field: str) -> None:
    response = api.get("/customers", params)
    assert response.status_code == 422 and response.json()["field"] == field


def test_unparseable_json_is_a_422(api: ApiClient, client: Any) -> None:
    response = api.client.post("/api/v1/customers", "{not json", content_type="application/json",
                               headers=api.headers)
    assert response.status_code == 422 and response.json()["field"] is None


def test_bad_settings(api: ApiClient) -> None:
    before = api.get("/settings").json()
    for body, field in [({"auto_create_organizations": "no"}, "auto_create_organizations"),
                        ({"extra_free_mail_domains": ["a..b"]}, "extra_free_mail_domains"),
                        ({"smtp_catch_all_domains": ["sales@example.com"]}, "smtp_catch_all_domains"),
                        ({"smtp_catch_all_domains": ["x" * 300]}, "smtp_catch_all_domains"),
                        ({"unknown_setting": 1}, "unknown_setting"),
                        ({"customer_panel": ["shoe_size"]}, "customer_panel")]:
        response = api.patch("/settings", body)
        assert response.status_code == 422 and response.json()["field"] == field
    assert api.get("/settings").json() == before


def test_bad_custom_field_definitions_and_types(api: ApiClient) -> None:
    response = api.post("/custom-fields", {"applies_to": "customer", "label": "X", "type": "colour"})
    assert response.status_code == 422 and response.json()["field"] == "type"
    response = api.post("/custom-fields", {"applies_to": "customer", "label": "X"})
    assert response.status_code == 422 and response.json()["field"] == "type"
    response = api.post("/customer-types", {"name": "VIP", "color": "red"})
    assert response.status_code == 422 and response.json()["field"] == "color"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/customers", {"email": "ana@acme.com", "name": "Ana\x00"}, "name"),
        ("/customers", {"email": "ana@acme.com", "name": "Ana\ud800"}, "name"),
        ("/customers", {"email": "ana\x00@acme.com"}, "email"),
        ("/customers", {"email": "ana@acme.com", "customer_type": "VIP\x00"}, "customer_type"),
        ("/customers", {"email": "ana@acme.com", "organization": True}, "organization"),
        ("/organizations", {"name": "Acme\x00"}, "name"),
        ("/organizations", {"name": "Globex", "notes": "bell\x07"}, "notes"),
        ("/custom-fields", {"applies_to": "customer", "label": "X\x00", "type": "text"}, "label"),
        ("/teams", {"name": "Support\x00"}, "name"),
    ],
)
def test_control_characters_and_wrong_types_are_a_422_on_every_backend(
    api: ApiClient, path: str, body: dict[str, Any], field: str
) -> None:
    before = _snapshot()
    response = api.post(path, body)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert _snapshot() == before


def test_control_characters_in_searches_and_paths_are_harmless(api: ApiClient, org: dict[str, Any]) -> None:
    assert api.get("/customers", {"search": "a\x00b"}).status_code == 200
    assert api.get("/organizations", {"search": "a\x00b"}).status_code == 200
    assert api.delete(f"/organizations/{org['id']}/domains/%00").status_code == 404


def test_an_oversized_body_is_a_413_not_a_500(api: ApiClient) -> None:
    response = api.post("/customers", {"email": "ana@acme.com", "notes": "x" * 3_000_000})
    assert response.status_code == 413 and response.json()["detail"]
    assert not Customer.objects.exists()


def test_a_custom_text_value_with_control_characters_is_refused(api: ApiClient) -> None:
    api.post("/custom-fields", {"applies_to": "customer", "label": "Note", "type": "text"})
    response = api.post("/customers", {"email": "ana@acme.com", "custom_fields": {"note": "a\x00b"}})
    assert response.status_code == 422 and response.json()["field"] == "custom_fields.note"


def test_unknown_routes_and_methods_answer_json(api: ApiClient) -> None:
    for response, status in [(api.get("/nope"), 404), (api.get("/customers/abc"), 404),
                             (api.client.put("/api/v1/customers", "{}", content_type="application/json",
                                             headers=api.headers), 405)]:
        assert response.status_code == status
        assert response.json()["detail"] and response.json()["field"] is None


# -- hostile numbers across every route (issue 11, item 8) -------------------------------------------

HOSTILE = [str(2**64), "99999999999999999999999", "²", "١٢", "-1", "0", "1e3", " 1", "", "1_0"]
HOSTILE_JSON: list[Any] = [2**64, 10**30, -1, 0, 1e3, "²", "١٢", " 1", "", [2**64], {"id": 2**64}]


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the API, from its OpenAPI schema."""
    from deskhand.api.api import api as ninja_api

    schema = ninja_api.get_openapi_schema()
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            found.append((method, path.removeprefix("/api/v1"), operation))
    return found


def _body_fields(operation: dict[str, Any]) -> list[str]:
    from deskhand.api.api import api as ninja_api

    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref", "")
    if not ref:
        return []
    components = ninja_api.get_openapi_schema()["components"]["schemas"]
    return list(components[ref.rsplit("/", 1)[-1]].get("properties", {}))


def _call(api: ApiClient, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
    url = f"/api/v1{path}"
    if method in ("get", "delete"):
        return getattr(api.client, method)(url, params or {}, headers=api.headers)
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return getattr(api.client, method)(url, body if body is not None else {}, content_type="application/json",
                                       headers=api.headers)


@pytest.fixture
def raw_api(api: ApiClient) -> ApiClient:
    """Errors come back as responses, so one run lists every 5xx."""
    api.client.raise_request_exception = False
    return api


def test_hostile_numbers_in_every_path_query_and_body_of_the_api(raw_api: ApiClient, org: dict[str, Any]) -> None:
    failures = []
    for method, path, operation in _operations():
        names = [parameter["name"] for parameter in operation.get("parameters", [])]
        path_names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        query_names = [name for name in names if name not in path_names]
        real = path
        for name in path_names:
            real = real.replace("{" + name + "}", "1" if name != "organization_id" else str(org["id"]))
        for value in HOSTILE:
            hostile_path = path
            for name in path_names:
                hostile_path = hostile_path.replace("{" + name + "}", value or "x")
            if path_names:
                response = _call(raw_api, method, hostile_path)
                if response.status_code >= 500:
                    failures.append(f"{method} {hostile_path}: {response.status_code}")
            for name in query_names:
                for shape in ("{}", "team:{}", "{},{}", "#{}"):
                    response = _call(raw_api, method, real, params={name: shape.format(value, value)})
                    if response.status_code >= 500:
                        failures.append(f"{method} {real}?{name}={shape.format(value, value)!r}: "
                                        f"{response.status_code}")
        for name in _body_fields(operation):
            for json_value in HOSTILE_JSON:
                response = _call(raw_api, method, real, body={name: json_value})
                if response.status_code >= 500:
                    failures.append(f"{method} {real} {{{name}: {json_value!r}}}: {response.status_code}")
    assert not failures, "\n".join(failures[:60])


def test_a_huge_id_in_a_path_is_a_404(api: ApiClient) -> None:
    for path in [f"/customers/{2**64}", f"/organizations/{2**64}", f"/tickets/{2**64}", f"/projects/{2**64}"]:
        response = api.get(path)
        assert response.status_code == 404 and response.json()["detail"], path


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/customers", {"email": "ana@acme.com", "organization": 2**64}, "organization"),
    ("/teams", {"name": "Support", "members": [2**64]}, "members.0"),
    ("/tickets", {"title": "Hi", "requester": 10**30}, "requester"),
])
def test_an_id_past_64_bits_in_a_body_is_a_422_naming_the_field(api: ApiClient, path: str, body: dict[str, Any],
                                                                 field: str) -> None:
    response = api.post(path, body)
    assert response.status_code == 422 and response.json()["field"] == field


@pytest.mark.parametrize("value", ["²", "١٢", str(2**64)])
def test_unicode_digits_and_huge_numbers_in_filters_are_a_422(api: ApiClient, value: str) -> None:
    response = api.get("/customers", {"organization": value})
    assert response.status_code == 422 and response.json()["field"] == "organization"


def test_too_many_query_parameters_is_a_400(api: ApiClient) -> None:
    query = "&".join(f"p{number}=1" for number in range(5_000))
    for path in ["/customers", "/tickets", "/organizations"]:
        response = api.client.get(f"/api/v1{path}?{query}", headers=api.headers)
        assert response.status_code == 400, path
        assert response.json()["detail"] and "TooManyFields" not in response.json()["detail"]


def test_import_without_a_multipart_boundary_is_a_400(api: ApiClient) -> None:
    response = api.client.post("/api/v1/customers/import", b"--x\r\nfoo", content_type="multipart/form-data",
                               headers=api.headers)
    assert response.status_code == 400
    assert "multipart" in response.json()["detail"] and response.json()["field"] == "file"
