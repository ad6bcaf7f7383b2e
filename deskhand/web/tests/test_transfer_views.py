from __future__ import annotations

import re
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Customer, Source
from deskhand.customers.services import create_customer
from deskhand.imports.models import ImportJob

CSV = b"E-mail address,Full name,Shoe size\nana@acme.com,Ana,42\nbroken,Bob,40\n"


def _upload(client: Client, data: bytes = CSV) -> str:
    response = client.post("/customers/import", {"step": "upload",
                                                 "file": SimpleUploadedFile("people.csv", data, "text/csv")})
    assert response.status_code == 200
    return response.content.decode()


def test_upload_guesses_the_column_mapping(agent_client: Client) -> None:
    page = _upload(agent_client)
    assert re.search(r'<option value="email" selected>', page) and re.search(r'<option value="name" selected>', page)
    assert "Shoe size" in page


def test_preview_writes_nothing_then_import_reports_each_row(agent_client: Client) -> None:
    page = _upload(agent_client)
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    mapping = {"token": token, "column-0": "email", "column-1": "name", "column-2": ""}
    preview = agent_client.post("/customers/import", {**mapping, "step": "preview"}).content.decode()
    assert "1 created" in preview and "1 error" in preview and "nothing has been written yet" in preview
    assert not Customer.objects.exists()
    done = agent_client.post("/customers/import", {**mapping, "step": "import"}).content.decode()
    assert "Import report" in done and "email:" in done
    assert Customer.objects.get().name == "Ana"


def test_mapping_without_email_or_an_expired_upload_is_refused(agent_client: Client) -> None:
    page = _upload(agent_client)
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    response = agent_client.post("/customers/import", {"token": token, "step": "preview", "column-1": "name"})
    assert response.status_code == 422 and "email address" in response.content.decode()
    response = agent_client.post("/customers/import", {"token": "../etc", "step": "preview"})
    assert response.status_code == 422 and "upload it again" in response.content.decode()
    response = agent_client.post("/customers/import", {"step": "upload"})
    assert response.status_code == 422 and "Choose a CSV file" in response.content.decode()


def test_exports(agent_client: Client) -> None:
    create_customer("ana@acme.com", name="Ana", source=Source.API, actor=SYSTEM)
    customers = agent_client.get("/customers/export.csv")
    assert customers["Content-Type"].startswith("text/csv") and b"ana@acme.com,Ana" in customers.content
    organizations = agent_client.get("/organizations/export.csv").content.decode().splitlines()
    assert organizations == ["name,domains,customer_count,notes", "acme.com,acme.com,1,"]


def test_a_long_import_runs_in_the_worker_with_progress(agent_client: Client, settings: Any,
                                                        django_capture_on_commit_callbacks: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    rows = "\n".join(f"p{index}@acme.com,P {index}" for index in range(600))
    page = _upload(agent_client, f"email,name\n{rows}\nbroken,Bad\n".encode())
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post("/customers/import", {"token": token, "step": "import",
                                                           "column-0": "email", "column-1": "name"})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/customers/import/{job.pk}"
    assert Customer.objects.count() == 600
    progress = agent_client.get(f"/customers/import/{job.pk}", headers={"HX-Request": "true"}).content.decode()
    assert "done" in progress and "600 created" in progress and "1 error" in progress and "every 1s" not in progress


def test_someone_elses_import_is_not_shown(agent_client: Client, admin: Any) -> None:
    job = ImportJob.objects.create(agent_id=admin.pk, data="email\n", rows_total=0)
    assert agent_client.get(f"/customers/import/{job.pk}").status_code == 404


def test_a_long_preview_runs_in_the_worker_then_imports_from_it(agent_client: Client, settings: Any,
                                                                django_capture_on_commit_callbacks: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    create_customer("p0@acme.com", name="Old name", source=Source.API, actor=SYSTEM)
    rows = "\n".join(f"p{index}@acme.com,P {index}" for index in range(600))
    page = _upload(agent_client, f"email,name\n{rows}\n".encode())
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    form = {"token": token, "column-0": "email", "column-1": "name", "update_existing": "no"}
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post("/customers/import", {**form, "step": "preview"})
    preview = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/customers/import/{preview.pk}"
    assert preview.dry_run and Customer.objects.count() == 1  # planned in the worker, nothing written
    page = agent_client.get(f"/customers/import/{preview.pk}").content.decode()
    assert "Preview" in page and "599 created" in page and "1 matched" in page
    assert "Old name</del> → <ins>P 0</ins>" in page and "left unchanged" in page
    assert f'action="/customers/import/{preview.pk}/import"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(f"/customers/import/{preview.pk}/import", {"update_existing": "no"})
    job = ImportJob.objects.exclude(pk=preview.pk).get()
    assert response["Location"] == f"/customers/import/{job.pk}" and not job.dry_run
    assert Customer.objects.count() == 600 and Customer.objects.get(email_key="p0@acme.com").name == "Old name"
    again = agent_client.post(f"/customers/import/{preview.pk}/import", {"update_existing": "no"}, follow=True)
    assert "imported already" in again.content.decode() and ImportJob.objects.count() == 2


def test_the_preview_shows_changes_and_the_choice(agent_client: Client) -> None:
    create_customer("ana@acme.com", name="Ana", source=Source.API, actor=SYSTEM)
    page = _upload(agent_client)
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    mapping = {"token": token, "column-0": "email", "column-1": "name", "column-2": ""}
    preview = agent_client.post("/customers/import", {**mapping, "step": "preview"}).content.decode()
    assert "Ana</del> → <ins>Ana</ins>" not in preview and "no change" in preview
    assert 'name="update_existing" value="yes" checked' in preview


def test_a_binary_upload_is_refused_with_one_message(agent_client: Client) -> None:
    response = agent_client.post("/customers/import", {
        "step": "upload", "file": SimpleUploadedFile("sheet.xlsx", b"PK\x03\x04\x14\x00\x00\x00" * 50, "text/csv")})
    assert response.status_code == 422 and "This is not a CSV text file" in response.content.decode()
