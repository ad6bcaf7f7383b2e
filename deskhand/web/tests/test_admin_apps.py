"""Administration → Customer apps and an organization's own portal rule."""

from __future__ import annotations

from typing import Any

from django.test import Client

from deskhand.config.queries import get_setting
from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Organization
from deskhand.customers.services import create_organization


def test_the_three_choices_are_explained_and_saved(admin_client: Client, db: Any) -> None:
    page = admin_client.get("/admin/apps").content.decode()
    assert "/portal/" in page and "Requested only" in page and "Requested or following" in page
    assert "every request of their organization" in page
    assert 'value="requested_or_following" checked' in page
    assert admin_client.post("/admin/apps/visibility", {"portal_visibility": "organization"}).status_code == 302
    assert get_setting("portal_visibility") == "organization"
    admin_client.post("/admin/apps/visibility", {"portal_visibility": "everyone"})
    assert get_setting("portal_visibility") == "organization"


def test_agents_cannot_change_it(agent_client: Client, db: Any) -> None:
    assert agent_client.get("/admin/apps").status_code == 403
    assert agent_client.post("/admin/apps/visibility", {"portal_visibility": "requested"}).status_code == 403


def test_an_organization_overrides_the_setting(admin_client: Client, agent_client: Client, db: Any) -> None:
    acme = create_organization("Acme", actor=SYSTEM)
    page = admin_client.get(f"/organizations/{acme.pk}").content.decode()
    assert "Members of Acme see the requests they asked for or follow" in page and "(the setting for everyone)" in page
    admin_client.post(f"/organizations/{acme.pk}/portal", {"portal_visibility": "organization"})
    assert Organization.objects.get(pk=acme.pk).portal_visibility == "organization"
    page = admin_client.get(f"/organizations/{acme.pk}").content.decode()
    assert "every request of their organization" in page and "(the setting for everyone)" not in page
    assert "Acme</a>: Their organization" in admin_client.get("/admin/apps").content.decode()
    assert agent_client.post(f"/organizations/{acme.pk}/portal", {"portal_visibility": ""}).status_code == 403
    admin_client.post(f"/organizations/{acme.pk}/portal", {"portal_visibility": ""})
    assert Organization.objects.get(pk=acme.pk).portal_visibility == ""


def test_branding_names_and_colours_the_portal(admin_client: Client, db: Any) -> None:
    response = admin_client.post("/admin/apps/branding", {"helpdesk_name": "Acme IT", "brand_color": "#0F766E"})
    assert response.status_code == 302
    assert (get_setting("email_sender_name"), get_setting("brand_color")) == ("Acme IT", "#0f766e")
    css = Client().get("/portal/brand.css")
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    assert "--brand: #0f766e;" in css.content.decode()
    login = Client().get("/portal/login").content.decode()
    assert "<title>Sign in · Acme IT</title>" in login and "/portal/brand.css" in login
    admin_client.post("/admin/apps/branding", {"helpdesk_name": "Acme IT", "brand_color": "red; } body { x"})
    assert get_setting("brand_color") == "#0f766e"


def test_a_logo_is_checked_by_its_bytes_served_and_removed(admin_client: Client, db: Any, settings: Any,
                                                           tmp_path: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    admin_client.post("/admin/apps/branding", {"helpdesk_name": "Acme IT", "brand_color": "#2563eb", "logo": fake})
    assert get_setting("brand_logo_type") == "" and Client().get("/portal/logo").status_code == 404
    big = SimpleUploadedFile("logo.png", png + b"\x00" * 300_000, content_type="image/png")
    admin_client.post("/admin/apps/branding", {"helpdesk_name": "Acme IT", "brand_color": "#2563eb", "logo": big})
    assert get_setting("brand_logo_type") == ""
    good = SimpleUploadedFile("anything.gif", png, content_type="image/gif")
    admin_client.post("/admin/apps/branding", {"helpdesk_name": "Acme IT", "brand_color": "#2563eb", "logo": good})
    served = Client().get("/portal/logo")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png  # type: ignore[attr-defined]
    assert 'class="portal-logo"' in Client().get("/portal/login").content.decode()
    admin_client.post("/admin/apps/branding", {"helpdesk_name": "Acme IT", "brand_color": "#2563eb",
                                               "remove_logo": "on"})
    assert Client().get("/portal/logo").status_code == 404
    assert admin_client.patch("/api/v1/settings", {"brand_logo_type": "text/html"},
                              content_type="application/json").status_code in (401, 403, 422)
