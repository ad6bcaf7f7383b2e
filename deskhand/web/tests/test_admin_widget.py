"""Administration → Customer apps → Widget."""

from __future__ import annotations

import pytest
from django.test import Client

from deskhand.config.queries import get_settings
from deskhand.core.actors import Actor
from deskhand.webforms.inputs import FormInput
from deskhand.webforms.services import create_form

pytestmark = pytest.mark.django_db


def test_the_section_shows_the_tag_to_copy(admin_client: Client) -> None:
    page = admin_client.get("/admin/apps").content.decode()
    assert 'id="widget-title"' in page
    assert "&lt;script src=&quot;http://" in page and "/widget.js&quot; async&gt;&lt;/script&gt;" in page


def test_save_the_widget(admin_client: Client, admin_actor: Actor) -> None:
    create_form(FormInput(slug="contact", title="Contact us"), actor=admin_actor)
    response = admin_client.post("/admin/apps/widget", {
        "enabled": "on", "apps": ["kb", "request"], "form": "contact", "label": "Questions?",
        "origins": "https://www.acme.com/shop\n\nhttp://127.0.0.1:9000\n"})
    assert response.status_code == 302
    values = get_settings()
    assert values["widget_apps"] == ["kb", "request"] and values["widget_form"] == "contact"
    assert values["widget_label"] == "Questions?"
    assert values["widget_origins"] == ["http://127.0.0.1:9000", "https://www.acme.com"]
    assert "Widget saved." in admin_client.get("/admin/apps").content.decode()


def test_a_bad_site_changes_nothing_and_says_which(admin_client: Client) -> None:
    admin_client.post("/admin/apps/widget", {"enabled": "on", "apps": ["kb"], "origins": "https://ok.example\nnot a site"})
    assert get_settings()["widget_origins"] == [] and get_settings()["widget_apps"] == ["kb", "request", "chat"]
    assert "“not a site” is not a web address" in admin_client.get("/admin/apps").content.decode()


def test_the_preview_is_a_page_with_the_widget_open(admin_client: Client) -> None:
    page = admin_client.get("/admin/apps/widget/preview").content.decode()
    assert '<script src="/widget.js" data-open="true" async></script>' in page


def test_only_admins(agent_client: Client) -> None:
    assert agent_client.post("/admin/apps/widget", {"enabled": "on"}).status_code == 403
    assert agent_client.get("/admin/apps/widget/preview").status_code == 403
