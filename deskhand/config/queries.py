from __future__ import annotations

import copy
from typing import Any

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
    # The public knowledge base (/kb/, suggestions, the widget's search) and the language its readers
    # see first when their own has no article.
    "kb_enabled": True,
    "kb_language": "en",
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
    "email_sender_name": "Support",  # also the help desk's name on the customer portal
    # The portal's accent colour (links, buttons, its top bar), #rrggbb.
    "brand_color": "#2563eb",
    # The portal's logo: its type when one is uploaded (config.services.set_logo), else "".
    "brand_logo_type": "",
    "auto_reply_cap": 10,
    # The SMTP listener takes mail for the ticket addresses only; at these domains it takes any
    # local part as well (a catch-all), for those who want one.
    "smtp_catch_all_domains": [],
    # The help desk's own address that forwards its mail to Deskhand (support@yourcompany.com), ""
    # until an admin declares it in Administration → Email: never added as a follower.
    "forwarding_address": "",
    # The embeddable widget (issue 16): shown by the script tag when enabled; its endpoints answer
    # the help desk's own origin and these (scheme://host[:port]); the apps it offers; the web form
    # (slug) its request tab shows, "" for none; the launcher's label, "" for the translated "Help".
    "widget_enabled": True,
    "widget_origins": [],
    "widget_apps": ["kb", "request", "chat"],
    "widget_form": "",
    "widget_label": "",
    # An SLA target is "at risk" once this share of its time is used (in percent).
    "sla_at_risk_percent": 80,
    # Live chat (deskhand/chat): offered at all; a waiting chat no agent accepts within this many
    # seconds becomes a ticket; open in the business hours of this SLA policy (its id; None = always).
    "chat_enabled": True,
    "chat_accept_seconds": 120,
    "chat_hours_policy": None,
    # Executables and scripts: a help desk must never pass these on to colleagues or customers.
    "blocked_attachment_extensions": [
        "bat", "cmd", "com", "cpl", "dll", "exe", "hta", "jar", "js", "jse", "lnk", "msi", "ps1", "scr",
        "vbe", "vbs", "wsf",
    ],
}


def get_settings() -> dict[str, Any]:
    """Every setting, stored value or default; panels drop custom fields that no longer exist."""
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
    row = Setting.objects.filter(key=key).first()
    return copy.deepcopy(DEFAULTS[key]) if row is None else row.value
