"""With DESKHAND_STORAGE_URL, the files one web host saves and another may serve are in the
bucket too (the `default` storage, under `files/` in the attachments' prefix): the portal's logo,
and a CSV file between its upload and its preview or import. Against a local S3 server (moto)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from deskhand.core.storage import attachment_storage_settings, file_storage_settings
from deskhand.customers.models import Customer

pytestmark = pytest.mark.django_db

ACCESS_KEY, SECRET = "deskhand-test", "s3cr3t/with+plus"
PREFIX = "help/desk"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
CSV = b"email,name\nana@acme.com,Ana\nbo@acme.com,Bo\n"




@dataclass
class Bucket:
    client: Any
    name: str

    def keys(self) -> set[str]:
        listed = self.client.list_objects_v2(Bucket=self.name).get("Contents", [])
        return {entry["Key"] for entry in listed}

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())


@pytest.fixture
def bucket(s3_endpoint: str, settings: Any, tmp_path: Path) -> Bucket:
    """STORAGES as settings.py makes them from one DESKHAND_STORAGE_URL; the data directory's
    folders are elsewhere, so that anything written there would show."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)
    name = f"deskhand-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    url = (f"s3://{ACCESS_KEY}:{quote(SECRET, safe='')}@{name}/{PREFIX}"
           f"?endpoint_url={quote(s3_endpoint, safe='')}&region=us-east-1&addressing_style=path")
    settings.STORAGES = {**settings.STORAGES,
                         "default": file_storage_settings(url, location=tmp_path / "files"),
                         "attachments": attachment_storage_settings(url, location=tmp_path / "attachments")}
    return Bucket(client, name)


def test_without_a_url_files_stay_in_the_data_directory_and_with_one_beside_the_attachments(tmp_path: Path) -> None:
    local = file_storage_settings("", location=tmp_path)
    assert local["OPTIONS"] == {"location": tmp_path}
    assert file_storage_settings("s3://bucket/a/b?region=eu-west-1", location=tmp_path)["OPTIONS"]["location"] == "a/b/files"
    shared = file_storage_settings("s3://bucket", location=tmp_path)["OPTIONS"]
    assert (shared["bucket_name"], shared["location"]) == ("bucket", "files")


def test_the_logo_is_kept_in_the_bucket_and_served_from_it(bucket: Bucket, admin_client: Client,
                                                           tmp_path: Path) -> None:
    logo = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    admin_client.post("/admin/apps/branding", {"helpdesk_name": "Acme IT", "brand_color": "#2563eb", "logo": logo})
    assert bucket.keys() == {f"{PREFIX}/files/branding/logo"}
    assert bucket.read(f"{PREFIX}/files/branding/logo") == PNG
    served = Client().get("/portal/logo")  # any web host: it reads the bucket
    assert served.status_code == 200 and b"".join(served.streaming_content) == PNG  # type: ignore[attr-defined]
    admin_client.post("/admin/apps/branding", {"helpdesk_name": "Acme IT", "brand_color": "#2563eb",
                                               "remove_logo": "on"})
    assert bucket.keys() == set() and Client().get("/portal/logo").status_code == 404
    assert not any(tmp_path.rglob("*"))


def _upload(client: Client, data: bytes = CSV) -> Any:
    return client.post("/customers/import", {"step": "upload", "file": SimpleUploadedFile("people.csv", data, "text/csv")})


def test_an_uploaded_csv_waits_in_the_bucket_for_its_preview_and_import(
        bucket: Bucket, agent_client: Client, agent: Any, tmp_path: Path) -> None:
    page = _upload(agent_client).content.decode()
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    key = f"{PREFIX}/files/imports/{token}.csv"
    assert bucket.keys() == {key} and bucket.read(key) == CSV
    assert not any(tmp_path.rglob("*")) and not (Path(django_settings.DATA_DIR) / "files" / "imports" / f"{token}.csv").exists()

    # The next steps may reach another web host: a browser of its own, the same session.
    other_host = Client()
    other_host.cookies = agent_client.cookies
    mapping = {"token": token, "column-0": "email", "column-1": "name"}
    preview = other_host.post("/customers/import", {**mapping, "step": "preview"}).content.decode()
    assert "2 created" in preview and not Customer.objects.exists() and bucket.keys() == {key}
    done = agent_client.post("/customers/import", {**mapping, "step": "import"})
    assert done.status_code == 200 and Customer.objects.count() == 2
    assert bucket.keys() == set()  # used up
    gone = agent_client.post("/customers/import", {**mapping, "step": "preview"})
    assert gone.status_code == 422 and "upload it again" in gone.content.decode()


def test_a_csv_above_the_limit_is_refused_before_anything_is_stored(
        bucket: Bucket, agent_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("deskhand.web.views.transfer.MAX_FILE_BYTES", len(CSV) - 1)
    response = _upload(agent_client)
    assert response.status_code == 422 and "at most 50 MB" in response.content.decode()
    assert bucket.keys() == set()
