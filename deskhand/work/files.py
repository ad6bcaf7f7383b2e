"""Stored files (attachments, pasted images) opened for a download, from any storage."""

from __future__ import annotations

from typing import IO, Any, cast

from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile


def open_stored(file: FieldFile) -> tuple[IO[bytes], int]:
    """`file` opened to be read once from its start, and its size in bytes; FileNotFoundError
    when the row has no file or the storage no longer has it. From object storage the object's
    body is streamed as it is read: django-storages' own file object fetches the whole object
    before its first byte, which a download of a large file must not wait for (or hold)."""
    name = str(file.name or "")
    if not name:  # opening "" would ask the storage for its root
        raise FileNotFoundError("The row has no file.")
    storage = file.storage
    if not isinstance(storage, FileSystemStorage):
        from storages.backends.s3 import S3Storage

        if isinstance(storage, S3Storage):
            return _open_object(storage, name)
    handle = storage.open(name, "rb")
    return cast(IO[bytes], handle), int(handle.size or 0)


def _open_object(storage: Any, name: str) -> tuple[IO[bytes], int]:
    from botocore.exceptions import ClientError
    from storages.utils import clean_name

    key = storage._normalize_name(clean_name(name))  # the prefix of DESKHAND_STORAGE_URL, as S3Storage adds it
    # The storage's client is its thread's own (a boto3 client may be shared, its resources not).
    client = storage.connection.meta.client
    try:
        response = client.get_object(Bucket=storage.bucket_name, Key=key)
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            raise FileNotFoundError(f"No such file in the bucket: {name}") from None
        raise
    return cast(IO[bytes], response["Body"]), int(response["ContentLength"])
