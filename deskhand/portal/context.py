"""What every portal page shows of the help desk's branding: its name and accent colour, read
only when a template asks (agents' pages never do)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from deskhand.config.queries import get_settings


def _brand() -> dict[str, Any]:
    values = get_settings()
    return {"name": str(values["email_sender_name"]), "color": str(values["brand_color"]),
            "logo": bool(values["brand_logo_type"])}


def _kb_enabled() -> bool:
    """Whether the public knowledge base is on: the portal links its help center, and request forms
    suggest its articles under the title."""
    return bool(get_settings()["kb_enabled"])


def branding(request: HttpRequest) -> dict[str, Any]:
    kb_enabled = SimpleLazyObject(_kb_enabled)
    return {"brand": SimpleLazyObject(_brand), "kb_enabled": kb_enabled, "kb_suggest": kb_enabled}
