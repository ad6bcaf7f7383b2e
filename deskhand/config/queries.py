from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from deskhand.config.models import Setting
from deskhand.fields.models import CustomField

PORTAL_VISIBILITY = ("requested", "requested_or_following", "organization")
VIEWS = ("by_portfolio", "by_customer")
CUSTOMER_PROPERTIES = (
    "email", "name", "phone", "organization", "customer_type", "language", "notes", "source",
    "created_at", "updated_at",
)
ORGANIZATION_PROPERTIES = ("name", "domains", "customer_count", "notes", "source", "created_at", "updated_at")

DEFAULTS: dict[str, Any] = {
    "auto_create_organizations": True,
    "extra_free_mail_domains": [],
    "portal_visibility": "requested_or_following",
    "default_view": "by_portfolio",
    "enabled_views": ["by_portfolio", "by_customer"],
    "portfolios_enabled": True,
    "customer_panel": ["email", "name", "phone", "organization", "customer_type", "source", "created_at"],
    "organization_panel": ["name", "domains", "customer_count", "created_at"],
    "attachment_max_bytes": 25 * 1024 * 1024,
    # Email: "we got your request" for new tickets by email, the display name on our mail, and at
    # most this many automatic mails (acknowledgements, rejections) to one address a day.
    "email_acknowledgement": True,
    "email_sender_name": "Support",
    "auto_reply_cap": 10,
    # The SMTP listener takes mail for the ticket addresses only; at these domains it takes any
    # local part as well (a catch-all), for those who want one.
    "smtp_catch_all_domains": [],
    # Executables and scripts: a help desk must never pass these on to colleagues or customers.
    "blocked_attachment_extensions": [
        "bat", "cmd", "com", "cpl", "dll", "exe", "hta", "jar", "js", "jse", "lnk", "msi", "ps1", "scr",
        "vbe", "vbs", "wsf",
    ],
}


T = TypeVar("T")
_batch: ContextVar[dict[str, Any] | None] = ContextVar("deskhand_batch_cache", default=None)


@contextmanager
def batch_cache() -> Iterator[None]:
    """Within this block, configuration that every record of a batch reads (the settings, the
    initial status of a workflow…) is read once, and lookups may be remembered (`batch_dict`): for
    a batch of mail processed in one transaction, where nothing else changes them. Per thread and
    task (a context variable); nothing outlives the block. Whoever rolls back a savepoint inside
    the block and goes on calls `forget_batch()`."""
    token = _batch.set({})
    try:
        yield
    finally:
        _batch.reset(token)


def batch_cached(key: str, compute: Callable[[], T]) -> T:
    """`compute()`, or within `batch_cache()` the value it gave the first time for `key`."""
    cache = _batch.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]  # type: ignore[no-any-return]


def batch_dict(key: str) -> dict[Any, Any] | None:
    """A dictionary that lives as long as the enclosing `batch_cache()` block (None outside one):
    lookups that the services of one batch repeat, kept up to date by the services that write them."""
    cache = _batch.get()
    return None if cache is None else cache.setdefault(key, {})


def forget_batch(key: str | None = None) -> None:
    """Drop what the enclosing `batch_cache()` remembers under `key`, or everything: after a change
    it cannot follow, and after a savepoint of the batch was rolled back (a mail that failed), since
    what the lookups learnt inside it may be gone from the database."""
    cache = _batch.get()
    if cache is not None:
        if key is None:
            cache.clear()
        else:
            cache.pop(key, None)


def get_settings() -> dict[str, Any]:
    """Every setting, stored value or default; panels drop custom fields that no longer exist."""
    if _batch.get() is not None:
        return copy.deepcopy(batch_cached("config.settings", _read_settings))
    return _read_settings()


def _read_settings() -> dict[str, Any]:
    values = copy.deepcopy(DEFAULTS)
    values.update({row.key: row.value for row in Setting.objects.filter(key__in=DEFAULTS)})
    if any(entry.startswith("custom_fields.") for entry in values["customer_panel"] + values["organization_panel"]):
        existing = {f"{applies_to}:{key}" for applies_to, key in CustomField.objects.values_list("applies_to", "key")}
        for panel, applies_to in (("customer_panel", "customer"), ("organization_panel", "organization")):
            values[panel] = [
                entry for entry in values[panel]
                if not entry.startswith("custom_fields.")
                or f"{applies_to}:{entry.removeprefix('custom_fields.')}" in existing
            ]
    return values


def get_setting(key: str) -> Any:
    if _batch.get() is not None:
        return copy.deepcopy(batch_cached("config.settings", _read_settings)[key])
    row = Setting.objects.filter(key=key).first()
    return copy.deepcopy(DEFAULTS[key]) if row is None else row.value
