"""The widget's script and configuration, and who may call the widget's endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from deskhand.config.services import update_settings
from deskhand.core.actors import Actor
from deskhand.webforms.inputs import FormInput
from deskhand.webforms.services import create_form

pytestmark = pytest.mark.django_db

OTHER_SITE = "http://shop.example:8080"


def test_the_script_is_served_for_any_site(client: Client) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert len(response.content) < 30 * 1024 and b"attachShadow" in response.content


def test_the_configuration_speaks_the_visitors_language(client: Client, admin_actor: Actor) -> None:
    create_form(FormInput(slug="contact", title="Contact us"), actor=admin_actor)
    update_settings({"widget_form": "contact", "email_sender_name": "Acme Support", "brand_color": "#aa3300"},
                    actor=admin_actor)

    german = client.get("/widget/config?lang=de-AT").json()
    english = client.get("/widget/config", HTTP_ACCEPT_LANGUAGE="fr-CA,en;q=0.5").json()

    assert german["enabled"] is True and german["language"] == "de" and german["label"] == "Hilfe"
    assert german["name"] == "Acme Support" and german["color"] == "#aa3300" and german["logo"] is None
    assert german["apps"]["request"] == "/forms/contact"
    assert german["text"]["search_label"] != english["text"]["search_label"]
    assert english["language"] == "fr"


def test_no_request_tab_without_an_open_public_form(client: Client, admin_actor: Actor) -> None:
    create_form(FormInput(slug="members", title="Members", require_sign_in=True), actor=admin_actor)
    update_settings({"widget_form": "members"}, actor=admin_actor)
    assert client.get("/widget/config").json()["apps"]["request"] is None
    update_settings({"widget_form": "gone"}, actor=admin_actor)
    assert client.get("/widget/config").json()["apps"]["request"] is None


def test_switched_off_the_widget_shows_nothing_and_its_endpoints_are_gone(client: Client, admin_actor: Actor) -> None:
    update_settings({"widget_enabled": False}, actor=admin_actor)
    assert client.get("/widget/config").json() == {"enabled": False}
    response = client.get("/widget/anything")
    assert response.status_code == 404 and response.json()["code"] == "widget_off"


def test_an_allowed_origin_gets_cors_headers_and_others_none(client: Client, admin_actor: Actor) -> None:
    preflight: dict[str, Any] = {"HTTP_ORIGIN": OTHER_SITE, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
                                 "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "content-type, x-chat-token"}
    refused = client.options("/widget/config", **preflight)
    assert "Access-Control-Allow-Origin" not in refused
    assert client.get("/widget/config", HTTP_ORIGIN=OTHER_SITE).status_code == 403

    update_settings({"widget_origins": [OTHER_SITE + "/shop/index.html"]}, actor=admin_actor)
    allowed = client.options("/widget/config", **preflight)
    assert allowed["Access-Control-Allow-Origin"] == OTHER_SITE
    assert "x-chat-token" in allowed["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in allowed
    response = client.get("/widget/config", HTTP_ORIGIN=OTHER_SITE)
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == OTHER_SITE


def test_the_help_desks_own_origin_is_always_allowed(client: Client) -> None:
    response = client.get("/widget/config", HTTP_ORIGIN="http://testserver")
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "http://testserver"


def test_cors_stays_off_outside_the_widget(client: Client, admin_actor: Actor) -> None:
    update_settings({"widget_origins": [OTHER_SITE]}, actor=admin_actor)
    response = client.get("/api/v1/customers", HTTP_ORIGIN=OTHER_SITE)
    assert "Access-Control-Allow-Origin" not in response
