"""Where attachments and other files are kept: `DESKHAND_STORAGE_URL` parsed into STORAGES entries (pure).

    s3://[ACCESS_KEY:SECRET@]bucket[/prefix][?endpoint_url=URL&region=NAME&addressing_style=path|virtual|auto]

The key and secret are percent-encoded (a `/` in a secret is `%2F`); without them, boto3 finds
credentials its usual way (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, an instance
role). Error messages name the variable and the mistake, never a part of the URL that may be a
secret.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured

VARIABLE = "DESKHAND_STORAGE_URL"
S3_BACKEND = "storages.backends.s3.S3Storage"
FORMAT = "s3://[ACCESS_KEY:SECRET@]bucket[/prefix]?endpoint_url=…&region=…&addressing_style=…"
PARAMETERS = ("endpoint_url", "region", "addressing_style")
ADDRESSING_STYLES = ("auto", "path", "virtual")
# S3's rules are stricter (lowercase, 3–63 characters); S3-compatible servers are not all so strict.
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_REGION = re.compile(r"[A-Za-z0-9-]{1,64}")
# A parameter name shown in an error: a plain word (anything else might be a pasted secret).
_SHOWN_NAME = re.compile(r"[A-Za-z_]{1,32}")
# The `default` storage's folder inside the attachments' prefix (theirs are `2025/01/…`, `pasted/…`).
FILES_FOLDER = "files"
# What a read from the bucket keeps in memory before it spills to a temporary file (outbound mail
# reads whole attachments; downloads stream and never buffer).
READ_BUFFER_BYTES = 2 * 1024 * 1024


def _invalid(problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{VARIABLE}: {problem} (expected {FORMAT})")


def attachment_storage_settings(url: str, *, location: Path) -> dict[str, Any]:
    """The data directory when `url` is empty, else the S3-compatible bucket it names; a URL
    that is not understood raises ImproperlyConfigured (at start, when settings load)."""
    if not url.strip():
        return {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": location}}
    return {"BACKEND": S3_BACKEND, "OPTIONS": _s3_options(url.strip())}


def file_storage_settings(url: str, *, location: Path) -> dict[str, Any]:
    """The `default` storage (the portal's logo, CSV files between their upload and their
    import): the data directory when `url` is empty, else the same bucket as the attachments,
    under `files/` in their prefix (a name attachments never take), so that every web host sees
    what another one saved."""
    if not url.strip():
        return {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": location}}
    options = _s3_options(url.strip())
    options["location"] = "/".join(part for part in (options["location"], FILES_FOLDER) if part)
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}


def _s3_options(url: str) -> dict[str, Any]:
    """django-storages' S3Storage options for an `s3://` URL. Files are private (no ACL, so the
    bucket's own policy holds) and never overwritten; a URL made for one of them is signed and
    expires, though Deskhand serves every download itself, after its permission checks."""
    scheme, separator, _rest = url.partition("://")
    if not separator or scheme.lower() != "s3":
        raise _invalid("only s3:// URLs are understood")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise _invalid("the URL cannot be read") from None
    if parts.fragment:
        raise _invalid("a URL has no #fragment here")
    userinfo, at, host = parts.netloc.rpartition("@")
    options: dict[str, Any] = {}
    if at:
        access_key, colon, secret_key = userinfo.partition(":")
        access_key, secret_key = unquote(access_key), unquote(secret_key)
        if not colon or not access_key or not secret_key:
            raise _invalid("credentials are written ACCESS_KEY:SECRET@, both percent-encoded")
        options.update(access_key=access_key, secret_key=secret_key)
    if not host:
        # An unencoded `/` in a secret ends the host early too: say so, without showing it.
        raise _invalid("the bucket name is missing (a / in a secret is written %2F)")
    if not _BUCKET.fullmatch(host):
        raise _invalid("the bucket name is not valid: letters, digits, dots, dashes and underscores; "
                       "the server goes in endpoint_url, and a / or @ in a secret is written %2F or %40")
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    if any(segment in (".", "..") or "\\" in segment for segment in segments):
        raise _invalid("the prefix may not contain . or .. segments")
    try:
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise _invalid("the query string cannot be read") from None
    given: dict[str, str] = {}
    for name, value in query:
        if name not in PARAMETERS:
            shown = f"“{name}”" if _SHOWN_NAME.fullmatch(name) else "a parameter"
            raise _invalid(f"{shown} is not understood; the parameters are {', '.join(PARAMETERS)}")
        if name in given:
            raise _invalid(f"{name} is given twice")
        given[name] = value.strip()
    style = _addressing_style(given["addressing_style"]) if "addressing_style" in given else None
    options.update(
        bucket_name=host,
        location="/".join(segments),
        endpoint_url=_endpoint(given["endpoint_url"]) if "endpoint_url" in given else None,
        region_name=_region(given["region"]) if "region" in given else None,
        addressing_style=style,
        default_acl=None,
        file_overwrite=False,
        querystring_auth=True,
        querystring_expire=300,
        max_memory_size=READ_BUFFER_BYTES,
        # A store out of reach fails a request in seconds (a 503, deskhand/core/outage.py), not
        # after botocore's default minute, and /healthz answers in time.
        client_config=Config(s3={"addressing_style": style} if style else None, connect_timeout=3, read_timeout=30,
                             retries={"max_attempts": 3, "mode": "standard"}),
    )
    return options


def _endpoint(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise _invalid("endpoint_url is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid("endpoint_url is an http:// or https:// URL with a host, e.g. http://127.0.0.1:9000")
    if "@" in parts.netloc:
        raise _invalid("endpoint_url takes no credentials; they go before the bucket name")
    if parts.query or parts.fragment:
        raise _invalid("endpoint_url takes no query string (percent-encode its ? and &)")
    return value


def _region(value: str) -> str:
    if not _REGION.fullmatch(value):
        raise _invalid("region is a name like eu-central-1")
    return value


def _addressing_style(value: str) -> str:
    if value not in ADDRESSING_STYLES:
        raise _invalid(f"addressing_style is one of {', '.join(ADDRESSING_STYLES)}")
    return value
