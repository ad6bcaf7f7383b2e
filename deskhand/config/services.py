"""Help-desk settings: defaults, validation and the one function that changes them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext

from deskhand.audit.services import diff, record
from deskhand.config.models import Setting
from deskhand.config.queries import (
    CUSTOMER_PROPERTIES,
    DEFAULTS,
    ORGANIZATION_PROPERTIES,
    PORTAL_VISIBILITY,
    VIEWS,
    get_settings,
)
from deskhand.core.actors import Actor
from deskhand.core.emailaddr import AddressError, normalize_domain, parse_email
from deskhand.core.errors import Forbidden, Invalid
from deskhand.core.text import clean_text
from deskhand.fields.models import CustomField

MAX_EXTRA_FREE_MAIL = 5_000
# A catch-all takes every address at a domain: the help desk's own few domains, not a long list.
MAX_CATCH_ALL_DOMAINS = 100


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("invalid_setting", gettext("%(name)s is true or false.") % {"name": name}, field=name)
    return value


def _one_of(options: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(name: str, value: Any) -> str:
        if value not in options:
            raise Invalid("invalid_setting", f"{name} is one of {', '.join(options)}.", field=name)
        return str(value)

    return check


def _domain_list(*, maximum: int, what: str, addresses: bool) -> Callable[[str, Any], list[str]]:
    """A list of domains, each normalised (trimmed, lower case, IDNA), without duplicates, sorted, at
    most `maximum` of them (`what` names them in the message). With `addresses`, an address stands for
    its domain (jim@gmail.com → gmail.com); without, it is refused rather than widened to the domain."""

    def check(name: str, value: Any) -> list[str]:
        if not isinstance(value, list):
            raise Invalid("invalid_setting", gettext("%(name)s is a list of domains.") % {"name": name}, field=name)
        typed: set[str] = set()  # a repeated entry is normalised once
        cleaned: set[str] = set()
        for raw in value:
            if isinstance(raw, str) and raw in typed:
                continue
            if not addresses and isinstance(raw, str) and "@" in raw.strip().lstrip("@"):
                raise Invalid("invalid_domain", gettext("Enter a domain such as acme.com, not an address."), field=name)
            try:
                cleaned.add(normalize_domain(raw))
            except AddressError as exc:
                raise Invalid("invalid_domain", str(exc), field=name) from None
            if len(cleaned) > maximum:
                raise Invalid("too_many_domains", gettext("There can be at most %(maximum)s %(what)s.") % {"maximum": maximum, "what": what}, field=name)
            typed.add(raw)
        return sorted(cleaned)

    return check


def _views(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value or any(view not in VIEWS for view in value):
        raise Invalid("invalid_setting", f"{name} is a non-empty list of {', '.join(VIEWS)}.", field=name)
    return list(dict.fromkeys(value))


def _panel(properties: tuple[str, ...], applies_to: str) -> Callable[[str, Any], list[str]]:
    def check(name: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
            raise Invalid("invalid_setting", gettext("%(name)s is a list of property names.") % {"name": name}, field=name)
        keys = set(CustomField.objects.filter(applies_to=applies_to).values_list("key", flat=True))
        for entry in value:
            custom = entry.removeprefix("custom_fields.")
            if entry not in properties and not (entry.startswith("custom_fields.") and custom in keys):
                raise Invalid(
                    "unknown_property",
                    f"“{entry}” is neither a property ({', '.join(properties)}) nor custom_fields.<key> "
                    f"of an existing {applies_to} field.",
                    field=name,
                )
        return list(dict.fromkeys(value))

    return check


MAX_ATTACHMENT_BYTES = 1024 * 1024 * 1024


def _attachment_limit(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ATTACHMENT_BYTES:
        raise Invalid("invalid_setting", gettext("%(name)s is a number of bytes from 1 to %(value)s.") % {"name": name, "value": MAX_ATTACHMENT_BYTES}, field=name)
    return value


def _extensions(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise Invalid("invalid_setting", gettext("%(name)s is a list of file extensions such as exe.") % {"name": name}, field=name)
    cleaned = [entry.strip().lower().lstrip(".") for entry in value]
    if any(not entry or len(entry) > 16 or not entry.isalnum() for entry in cleaned):
        raise Invalid("invalid_setting", gettext("%(name)s holds extensions of letters and digits, such as exe.") % {"name": name}, field=name)
    return sorted(set(cleaned))


def _sender_name(name: str, value: Any) -> str:
    return clean_text(value, field=name, max_length=100, required=True, label="sender name")


def _optional_address(name: str, value: Any) -> str:
    """An email address, normalised, or "" for none."""
    if not isinstance(value, str):
        raise Invalid("invalid_setting", gettext("%(name)s is an email address, or empty.") % {"name": name}, field=name)
    if not value.strip():
        return ""
    try:
        return parse_email(value.strip()).address
    except AddressError as exc:
        raise Invalid("invalid_address", str(exc), field=name) from None


def _color(name: str, value: Any) -> str:
    if not isinstance(value, str) or re.fullmatch(r"#[0-9a-fA-F]{6}", value.strip()) is None:
        raise Invalid("invalid_setting", gettext("%(name)s is a colour written #rrggbb, such as #2563eb.") % {"name": name}, field=name)
    return value.strip().lower()


LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif",
              b"GIF89a": "image/gif"}
MAX_LOGO_BYTES = 256 * 1024
LOGO_PATH = "branding/logo"


def _logo_type(name: str, value: Any) -> str:
    if value not in ("", *LOGO_TYPES.values()):
        raise Invalid("invalid_setting", gettext("%(name)s is set by uploading a logo.") % {"name": name}, field=name)
    return str(value)


def _auto_reply_cap(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise Invalid("invalid_setting", gettext("%(name)s is a number from 0 to 1000.") % {"name": name}, field=name)
    return value


def _percent(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99:
        raise Invalid("invalid_setting", gettext("%(name)s is a percentage from 1 to 99.") % {"name": name}, field=name)
    return value


MAX_WIDGET_ORIGINS = 50
WIDGET_APPS = ("kb", "request", "chat")


def _origins(name: str, value: Any) -> list[str]:
    """Web origins as browsers send them (`https://www.acme.com`, `http://127.0.0.1:8080`): a pasted
    page address is cut to its origin; lower case, no default port, no duplicates, sorted."""
    if not isinstance(value, list) or len(value) > MAX_WIDGET_ORIGINS:
        raise Invalid("invalid_setting", gettext("%(name)s is a list of at most %(maximum)s web addresses.")
                      % {"name": name, "maximum": MAX_WIDGET_ORIGINS}, field=name)
    cleaned = set()
    for raw in value:
        text = raw.strip() if isinstance(raw, str) else ""
        try:
            parts = urlsplit(text[:300])
            port = parts.port
        except ValueError:
            parts, port = urlsplit(""), None
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise Invalid("invalid_origin", gettext("“%(value)s” is not a web address such as https://www.acme.com.")
                          % {"value": text[:100]}, field=name)
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise Invalid("invalid_origin", gettext("“%(value)s” is not a web address such as https://www.acme.com.")
                          % {"value": text[:100]}, field=name) from None
        default = {"http": 80, "https": 443}[parts.scheme]
        host = f"[{host}]" if ":" in host else host
        cleaned.add(f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else ""))
    return sorted(cleaned)


def _widget_apps(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or any(app not in WIDGET_APPS for app in value):
        raise Invalid("invalid_setting", f"{name} is a list of {', '.join(WIDGET_APPS)}.", field=name)
    return [app for app in WIDGET_APPS if app in value]


def _form_slug(name: str, value: Any) -> str:
    if not isinstance(value, str) or (value and re.fullmatch(r"[-a-zA-Z0-9_]{1,60}", value) is None):
        raise Invalid("invalid_setting", gettext("%(name)s is a web form's address name, or empty.") % {"name": name},
                      field=name)
    return value


def _label(name: str, value: Any) -> str:
    return clean_text(value, field=name, max_length=40, label="label") if isinstance(value, str) and value.strip() else ""


def _chat_seconds(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 10 <= value <= 24 * 3600:
        raise Invalid("invalid_setting", gettext("%(name)s is a number of seconds from 10 to 86400.") % {"name": name}, field=name)
    return value


def _optional_id(name: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**62:
        raise Invalid("invalid_setting", gettext("%(name)s is an id, or empty.") % {"name": name}, field=name)
    return value


VALIDATORS: dict[str, Callable[[str, Any], Any]] = {
    "kb_enabled": _bool,
    "kb_language": _one_of(("en", "de", "hr", "fr", "es", "nb")),
    "widget_enabled": _bool,
    "widget_origins": _origins,
    "widget_apps": _widget_apps,
    "widget_form": _form_slug,
    "widget_label": _label,
    "auto_create_organizations": _bool,
    "extra_free_mail_domains": _domain_list(maximum=MAX_EXTRA_FREE_MAIL, what="extra free-mail domains",
                                            addresses=True),
    "portal_visibility": _one_of(PORTAL_VISIBILITY),
    "default_view": _one_of(VIEWS),
    "enabled_views": _views,
    "portfolios_enabled": _bool,
    "customer_panel": _panel(CUSTOMER_PROPERTIES, "customer"),
    "organization_panel": _panel(ORGANIZATION_PROPERTIES, "organization"),
    "attachment_max_bytes": _attachment_limit,
    "blocked_attachment_extensions": _extensions,
    "email_acknowledgement": _bool,
    "email_sender_name": _sender_name,
    "brand_color": _color,
    "brand_logo_type": _logo_type,
    "auto_reply_cap": _auto_reply_cap,
    "sla_at_risk_percent": _percent,
    "chat_enabled": _bool,
    "chat_accept_seconds": _chat_seconds,
    "chat_hours_policy": _optional_id,
    # An address here would quietly open its whole domain: refused.
    "smtp_catch_all_domains": _domain_list(maximum=MAX_CATCH_ALL_DOMAINS, what="catch-all domains",
                                           addresses=False),
    "forwarding_address": _optional_address,
}
assert set(VALIDATORS) == set(DEFAULTS)


@transaction.atomic
def update_settings(changes: dict[str, Any], *, actor: Actor) -> dict[str, Any]:
    """Apply `changes` (a subset of the settings) after checking every value; all or nothing."""
    if not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can change settings."))
    if not isinstance(changes, dict):
        raise Invalid("invalid_settings", gettext("Settings are an object."), field=None)
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        validator = VALIDATORS.get(name)
        if validator is None:
            raise Invalid("unknown_setting", gettext("There is no setting “%(name)s”.") % {"name": name}, field=name)
        cleaned[name] = validator(name, value)
    current = get_settings()
    merged = {**current, **cleaned}
    if merged["default_view"] not in merged["enabled_views"]:
        raise Invalid("invalid_setting", gettext("default_view must be one of enabled_views."), field="default_view")
    for name, value in cleaned.items():
        if value is None:
            # A JSON field stores None as SQL NULL, which its column refuses: no row means the default
            # (None for every setting that takes it, such as chat_hours_policy).
            Setting.objects.filter(key=name).delete()
            continue
        Setting.objects.update_or_create(key=name, defaults={"value": value})
    changed = diff(current, cleaned)
    if changed:
        record(actor=actor, action="settings.updated", object_type="settings", object_id=None, changes=changed)
    return get_settings()


@transaction.atomic
def set_logo(content: bytes | None, *, actor: Actor) -> str:
    """The portal's logo: a PNG, JPEG or GIF of at most 256 KB, recognised by its first bytes (not
    its name), stored in the default storage; None removes it. Returns its type ("" for none)."""
    if not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can change settings."))
    kind = ""
    if content is not None:
        if len(content) > MAX_LOGO_BYTES:
            raise Invalid("logo_too_large", gettext("A logo has at most %(value)s KB.") % {"value": MAX_LOGO_BYTES // 1024}, field="logo")
        kind = next((value for magic, value in LOGO_TYPES.items() if content.startswith(magic)), "")
        if not kind:
            raise Invalid("invalid_logo", gettext("A logo is a PNG, JPEG or GIF image."), field="logo")
        if default_storage.exists(LOGO_PATH):
            default_storage.delete(LOGO_PATH)
        default_storage.save(LOGO_PATH, ContentFile(content))
    elif default_storage.exists(LOGO_PATH):
        default_storage.delete(LOGO_PATH)
    update_settings({"brand_logo_type": kind}, actor=actor)
    return kind
