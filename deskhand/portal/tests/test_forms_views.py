"""A web form's public page: a visitor (or a signed-in customer) files a request; spam, closed
forms and hostile input get clear answers; any site may frame it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from deskhand.accounts.models import CustomerAccount
from deskhand.core.actors import Actor
from deskhand.webforms import services
from deskhand.webforms.inputs import FormInput
from deskhand.webforms.models import WebForm
from deskhand.work.models import Item


@pytest.fixture
def webform(admin_actor: Actor) -> WebForm:
    return services.create_form(FormInput(slug="it-help", title="IT help", intro="Tell us what broke."),
                                actor=admin_actor)


def _data(**values: str) -> dict[str, str]:
    return {"email": "zoe@acme.example", "name": "Zoë", "title": "Laptop broken", "description": "Black screen.",
            "opened": services.opened_token(time.time() - 30), "website": "", **values}


def test_a_visitor_files_a_request(client: Client, webform: WebForm) -> None:
    page = client.get("/forms/it-help")
    text = page.content.decode()
    assert page.status_code == 200 and "Tell us what broke." in text and 'for="id_email"' in text
    assert "frame-ancestors *" in page["Content-Security-Policy"] and "X-Frame-Options" not in page
    sent = client.post("/forms/it-help", _data())
    assert sent.status_code == 200 and "has reached us" in sent.content.decode()
    item = Item.objects.get()
    assert item.title == "Laptop broken" and item.channel == "form" and item.requester.email == "zoe@acme.example"


def test_spam_and_bad_input_get_clear_answers(client: Client, webform: WebForm) -> None:
    assert client.post("/forms/it-help", _data(website="http://spam.example")).status_code == 200
    assert not Item.objects.exists()  # thanked, and dropped
    quick = client.post("/forms/it-help", _data(opened=services.opened_token(time.time())))
    assert quick.status_code == 422 and "quicker than a person" in quick.content.decode()
    for data in (_data(email="not an address"), _data(title=""), _data(opened="x" * 5000)):
        assert Client(REMOTE_ADDR="10.3.3.3").post("/forms/it-help", data).status_code == 422
    assert not Item.objects.exists()
    assert client.get("/forms/nope").status_code == 404
    assert client.get("/forms/" + "a" * 300).status_code == 404


def test_closed_and_sign_in_forms(client: Client, webform: WebForm, admin_actor: Actor,
                                  make_customer: Callable[..., CustomerAccount],
                                  portal_client: Callable[[CustomerAccount], Client]) -> None:
    from deskhand.webforms.inputs import FormChanges

    services.update_form(webform, changes=FormChanges(enabled=False), actor=admin_actor)
    assert client.get("/forms/it-help").status_code == 404
    services.update_form(webform, changes=FormChanges(enabled=True, require_sign_in=True), actor=admin_actor)
    assert client.get("/forms/it-help")["Location"].startswith("/portal/login?next=")
    zoe = portal_client(make_customer("zoe@acme.example"))
    page = zoe.get("/forms/it-help").content.decode()
    assert "Sending as zoe@acme.example" in page and 'id="id_email"' not in page
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = zoe.cookies  # the same browser, with Django's CSRF check on
    token = strict.cookies["csrftoken"].value
    no_csrf = strict.post("/forms/it-help", _data())
    assert no_csrf.status_code == 403 and not Item.objects.exists()
    sent = strict.post("/forms/it-help", {**_data(), "csrfmiddlewaretoken": token})
    assert sent.status_code == 200 and Item.objects.get().requester.email == "zoe@acme.example"


def test_admins_build_forms_with_the_fields_they_choose(admin_client: Client, agent_client: Client,
                                                        admin_actor: Actor, db: Any) -> None:
    from deskhand.fields.services import create_custom_field

    create_custom_field(applies_to="ticket", key="device", label="Device", type="text", actor=admin_actor)
    assert "New form" in admin_client.get("/admin/apps").content.decode()
    bad = admin_client.post("/admin/apps/forms/new", {"title": "IT help", "slug": "IT Help!", "item_kind": "ticket"})
    assert bad.status_code == 422 and "lower-case letters" in bad.content.decode() and not WebForm.objects.exists()
    made = admin_client.post("/admin/apps/forms/new", {"title": "IT help", "slug": "it-help", "item_kind": "ticket",
                                                        "fields": ["device"], "required": ["device"],
                                                        "enabled": "on"})
    assert made.status_code == 302
    form = WebForm.objects.get()
    assert form.fields == [{"key": "device", "required": True}] and form.enabled
    listing = admin_client.get("/admin/apps").content.decode()
    assert "/forms/it-help" in listing and "&lt;iframe src=" in listing
    assert "Device *" in Client().get("/forms/it-help").content.decode()
    assert agent_client.get("/admin/apps/forms/new").status_code == 403
    admin_client.post(f"/admin/apps/forms/{form.pk}/delete")
    assert not WebForm.objects.exists()


def test_forms_offered_in_the_portal(admin_actor: Actor, make_customer: Callable[..., CustomerAccount],
                                     portal_client: Callable[[CustomerAccount], Client], webform: WebForm) -> None:
    from deskhand.webforms.inputs import FormChanges

    zoe = portal_client(make_customer("zoe@acme.example"))
    assert "/forms/it-help" not in zoe.get("/portal/requests/new").content.decode()
    services.update_form(webform, changes=FormChanges(in_portal=True), actor=admin_actor)
    assert "/forms/it-help" in zoe.get("/portal/requests/new").content.decode()
    services.update_form(webform, changes=FormChanges(enabled=False), actor=admin_actor)
    assert "/forms/it-help" not in zoe.get("/portal/requests/new").content.decode()


def test_a_visitor_reads_the_form_in_their_language_and_becomes_a_customer_of_it(client: Client,
                                                                                 webform: WebForm) -> None:
    page = client.get("/forms/it-help", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    text = page.content.decode()
    assert '<html lang="es">' in text and "Correo electrónico" in text and "Enviar solicitud" in text
    refused = client.post("/forms/it-help", _data(email="no es una dirección", title=""), HTTP_ACCEPT_LANGUAGE="es")
    assert refused.status_code == 422 and "Este campo es obligatorio." in refused.content.decode()
    bad = client.post("/forms/it-help", _data(email="no es una dirección"), HTTP_ACCEPT_LANGUAGE="es")
    assert "Introduzca una dirección de correo electrónico válida." in bad.content.decode()
    sent = client.post("/forms/it-help", _data(), HTTP_ACCEPT_LANGUAGE="es")
    assert "Hemos recibido su solicitud" in sent.content.decode()
    assert Item.objects.get().requester.language == "es"
