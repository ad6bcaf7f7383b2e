"""Where attachments are kept: `DESKHAND_STORAGE_URL` parsed into a STORAGES entry (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def attachment_storage_settings(url: str, *, location: Path) -> dict[str, Any]:
    """The data directory when `url` is empty, else the S3-compatible bucket it names."""
    if not url:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": location}}
    raise ValueError("DESKHAND_STORAGE_URL: only s3://bucket URLs are understood")
