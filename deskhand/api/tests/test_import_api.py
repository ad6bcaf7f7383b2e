from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from deskhand.conftest import ApiClient
from deskhand.customers.models import Customer


def _upload(api: ApiClient, text: str, dry_run: bool) -> dict:
    upload = SimpleUploadedFile("customers.csv", text.encode(), content_type="text/csv")
    response = api.client.post("/api/v1/customers/import", {"file": upload, "dry_run": str(dry_run).lower()},
                               headers=api.headers)
    assert response.status_code == 200, response.content
    return response.json()


def test_import_dry_run_then_for_real_then_export(api: ApiClient) -> None:
    text = "email,name\nana@acme.com,Ana\nbroken,Bob\n"
    dry = _upload(api, text, True)
    assert (dry["dry_run"], dry["created"], dry["errors"]) == (True, 1, 1)
    assert dry["rows"][1]["line"] == 3 and dry["rows"][1]["reason"].startswith("email:")
    assert not Customer.objects.exists()
    real = _upload(api, text, False)
    assert real["created"] == 1 and Customer.objects.count() == 1
    export = api.get("/customers/export")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert "ana@acme.com,Ana,,acme.com" in export.content.decode()


def test_import_without_a_file_or_with_a_bad_header_is_a_422(api: ApiClient) -> None:
    response = api.client.post("/api/v1/customers/import", {}, headers=api.headers)
    assert response.status_code == 422 and response.json()["field"] == "file"
    upload = SimpleUploadedFile("x.csv", b"name\nAna\n", content_type="text/csv")
    response = api.client.post("/api/v1/customers/import", {"file": upload}, headers=api.headers)
    assert response.status_code == 422 and response.json()["field"] == "file"


def test_import_lists_changes_and_can_leave_existing_customers(api: ApiClient) -> None:
    _upload(api, "email,name\nana@acme.com,Ana\n", False)
    upload = SimpleUploadedFile("customers.csv", b"email,name\nana@acme.com,Ana Lima\n", content_type="text/csv")
    response = api.client.post("/api/v1/customers/import", {"file": upload, "update_existing": "false"},
                               headers=api.headers)
    body = response.json()
    assert body["update_existing"] is False and body["matched"] == 1 and body["changed"] == 1
    assert body["rows"][0]["changes"] == {"name": {"old": "Ana", "new": "Ana Lima"}}
    assert Customer.objects.get().name == "Ana"
    assert _upload(api, "email,name\nana@acme.com,Ana Lima\n", False)["update_existing"] is True
    assert Customer.objects.get().name == "Ana Lima"


def test_random_bytes_are_a_422(api: ApiClient) -> None:
    upload = SimpleUploadedFile("x.csv", bytes(range(256)) * 100, content_type="text/csv")
    response = api.client.post("/api/v1/customers/import", {"file": upload}, headers=api.headers)
    assert response.status_code == 422 and "not a CSV text file" in str(response.json())
