"""Cleaning of free text from people and machines (pure functions)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.utils.translation import gettext

from deskhand.core.errors import Invalid

# NUL and other control characters: PostgreSQL refuses NUL, and none belongs in a name.
# Lone surrogates cannot be encoded as UTF-8 at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(
    value: Any,
    *,
    field: str,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
    label: str | None = None,
) -> str:
    """`value` as stored text: single-line text has its whitespace collapsed, multi-line text is
    trimmed; control characters, wrong types and overlong text raise Invalid naming `field`."""
    name = label or field.replace("_", " ")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid("invalid_value", gettext("%(capitalize)s must be text.") % {"capitalize": name.capitalize()}, field=field)
    if _CONTROL.search(value):
        raise Invalid("control_characters", gettext("%(capitalize)s contains control characters.") % {"capitalize": name.capitalize()}, field=field)
    text = unicodedata.normalize("NFC", value)
    text = text.strip() if multiline else " ".join(text.split())
    if required and not text:
        raise Invalid(f"{field}_required", f"Enter a {name}.", field=field)
    if len(text) > max_length:
        raise Invalid(f"{field}_too_long", f"{name.capitalize()} has at most {max_length} characters.", field=field)
    return text


def search_term(value: str | None, *, max_length: int = 200) -> str:
    """A search box's text, safe to put in a query: control characters dropped, trimmed."""
    return _CONTROL.sub("", value or "").strip()[:max_length]


def has_control_characters(value: str) -> bool:
    return bool(_CONTROL.search(value))


def first_line(text: str | None, *, max_length: int = 160) -> str:
    """The first line of a message that says something (not blank, not a quote), shortened."""
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        if line and not line.startswith(">"):
            return line if len(line) <= max_length else line[: max_length - 1].rstrip() + "…"
    return ""
