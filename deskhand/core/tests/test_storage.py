from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from deskhand.core.storage import attachment_storage_settings

HERE = Path("/srv/deskhand/attachments")
SECRET = "wJalr/XUtnFEMI+K7MDENG@bPxRfiCY"


def options(url: str) -> dict[str, object]:
    entry = attachment_storage_settings(url, location=HERE)
    assert entry["BACKEND"] == "storages.backends.s3.S3Storage"
    return dict(entry["OPTIONS"])


def refused(url: str) -> str:
    with pytest.raises(ImproperlyConfigured) as caught:
        attachment_storage_settings(url, location=HERE)
    message = str(caught.value)
    assert message.startswith("DESKHAND_STORAGE_URL: ")
    return message


def test_no_url_keeps_attachments_in_the_data_directory() -> None:
    for url in ("", "  "):
        assert attachment_storage_settings(url, location=HERE) == {
            "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": HERE}}


def test_a_bare_bucket_is_private_never_overwritten_and_leaves_credentials_to_boto3() -> None:
    got = options("s3://deskhand-files")
    config = got.pop("client_config")
    assert (config.connect_timeout, config.read_timeout) == (3, 30)  # an unreachable store fails in seconds
    assert got == {
        "bucket_name": "deskhand-files", "location": "", "endpoint_url": None, "region_name": None,
        "addressing_style": None, "default_acl": None, "file_overwrite": False, "querystring_auth": True,
        "querystring_expire": 300, "max_memory_size": 2 * 1024 * 1024}


def test_prefix_server_region_and_addressing_style() -> None:
    got = options("s3://files/deskhand/attachments/?endpoint_url=http://127.0.0.1:9000"
                  "&region=eu-central-1&addressing_style=path")
    assert (got["bucket_name"], got["location"]) == ("files", "deskhand/attachments")
    assert (got["endpoint_url"], got["region_name"], got["addressing_style"]) == (
        "http://127.0.0.1:9000", "eu-central-1", "path")
    assert got["client_config"].s3 == {"addressing_style": "path"}


def test_percent_encoded_credentials_are_decoded() -> None:
    got = options("s3://AKIAEXAMPLE:wJalr%2FXUtnFEMI%2BK7MDENG%40bPxRfiCY@files?endpoint_url=https://s3.example.com")
    assert (got["access_key"], got["secret_key"]) == ("AKIAEXAMPLE", SECRET)
    assert got["bucket_name"] == "files"
    assert got["endpoint_url"] == "https://s3.example.com"


def test_the_last_at_sign_ends_the_credentials() -> None:
    got = options(f"s3://AKIAEXAMPLE:{SECRET.replace('/', '%2F')}@files")
    assert (got["secret_key"], got["bucket_name"]) == (SECRET, "files")


def test_an_encoded_endpoint_keeps_its_path() -> None:
    got = options("s3://files?endpoint_url=http%3A%2F%2Fminio.internal%3A9000%2Fs3")
    assert got["endpoint_url"] == "http://minio.internal:9000/s3"


@pytest.mark.parametrize(("url", "problem"), [
    ("file:///srv/files", "only s3:// URLs"),
    ("https://s3.amazonaws.com/files", "only s3:// URLs"),
    ("files", "only s3:// URLs"),
    ("s3://", "bucket name is missing"),
    ("s3:///prefix", "bucket name is missing"),
    ("s3://files:9000", "bucket name is not valid"),
    ("s3://fi les", "bucket name is not valid"),
    ("s3://files/a/../b", ". or .. segments"),
    ("s3://files#top", "no #fragment"),
    ("s3://files?region=eu-central-1&region=us-east-1", "region is given twice"),
    ("s3://files?endpoint=http://localhost", "“endpoint” is not understood"),
    ("s3://files?endpoint_url=localhost:9000", "endpoint_url is an http:// or https:// URL"),
    ("s3://files?endpoint_url=ftp://localhost", "endpoint_url is an http:// or https:// URL"),
    ("s3://files?endpoint_url=http://localhost:port", "endpoint_url is not a URL"),
    ("s3://files?region=eu central", "region is a name"),
    ("s3://files?addressing_style=sideways", "addressing_style is one of auto, path, virtual"),
    ("s3://AKIAEXAMPLE@files", "credentials are written ACCESS_KEY:SECRET@"),
    ("s3://:secret@files", "credentials are written ACCESS_KEY:SECRET@"),
])
def test_a_wrong_url_fails_at_start_naming_the_variable(url: str, problem: str) -> None:
    message = refused(url)
    assert problem in message
    assert "s3://[ACCESS_KEY:SECRET@]bucket[/prefix]" in message


@pytest.mark.parametrize("url", [
    # A secret with an unencoded / ends the host early.
    f"s3://AKIAEXAMPLE:{SECRET}@files",
    f"s3://AKIAEXAMPLE:{SECRET.replace('/', '%2F')}@fi les",
    # Pasted into the wrong places: the query string, a parameter's name, the endpoint.
    f"s3://files?{SECRET.replace('/', '%2F')}",
    f"s3://files?secret={SECRET.replace('/', '%2F')}",
    "s3://files?wJalrXUtnFEMIK7MDENGbPxRfiCYwJalrXUtnFEMIK7MDENGbPxRfiCY=1",
    f"s3://files?endpoint_url=http://AKIAEXAMPLE:{SECRET.replace('/', '%2F')}@localhost:9000",
    f"s3://AKIAEXAMPLE:{SECRET.replace('/', '%2F')}@files?endpoint_url=nowhere",
])
def test_an_error_never_shows_the_secret(url: str) -> None:
    message = refused(url)
    for part in ("wJalr", "bPxRfiCY", "K7MDENG"):
        assert part not in message
