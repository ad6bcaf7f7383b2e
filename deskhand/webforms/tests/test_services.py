"""Web forms: what an admin may make, and what a submission files (and what it refuses)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, DomainError, Forbidden, Invalid
from deskhand.fields.services import create_custom_field
from deskhand.webforms import services
from deskhand.webforms.inputs import FormChanges, FormField, FormInput, Submission
from deskhand.webforms.models import WebForm
from deskhand.work.models import Item
from deskhand.work.services.projects import create_project

NOW = time.time()


def _form(admin_actor: Actor, **values: Any) -> WebForm:
    return services.create_form(FormInput(**{"slug": "it-help", "title": "IT help", **values}), actor=admin_actor)


def _send(form: WebForm, **values: Any) -> Item | None:
    fields = {"title": "Laptop broken", "description": "Screen is black.", "client": "10.0.0.1",
              "opened": services.opened_token(NOW - 30), "email": "zoe@acme.example", "name": "Zoë", **values}
    return services.submit(form, Submission(**fields), now=NOW)


def test_a_submission_files_a_request_by_the_customer_rules(admin_actor: Actor, db: Any) -> None:
    from deskhand.core.actors import SYSTEM
    from deskhand.customers.services import create_organization

    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    create_custom_field(applies_to="ticket", key="device", label="Device", type="text", actor=admin_actor)
    project = create_project("Hardware", actor=admin_actor)
    form = _form(admin_actor, fields=[FormField("device", required=True)], project=project.pk)
    with pytest.raises(Invalid) as missing:
        _send(form)
    assert missing.value.field == "custom_fields.device" and not Item.objects.exists()
    item = _send(form, custom_fields={"device": "ThinkPad", "unasked": "x"})
    assert item is not None and item.channel == "form" and item.kind == "ticket" and item.project == project
    assert item.requester.email == "zoe@acme.example" and item.organization == acme
    assert item.custom_fields == {"device": "ThinkPad"}
    assert item.messages.get().body == "Screen is black."


def test_a_form_can_make_tasks(admin_actor: Actor, db: Any) -> None:
    item = _send(_form(admin_actor, item_kind="task"))
    assert item is not None and item.kind == "task" and item.requester is not None


def test_spam_is_dropped_or_refused(admin_actor: Actor, db: Any) -> None:
    form = _form(admin_actor)
    assert _send(form, trap="http://spam.example") is None and not Item.objects.exists()
    with pytest.raises(Invalid) as fast:
        _send(form, opened=services.opened_token(NOW - 1))
    assert fast.value.code == "too_fast"
    for stale in (services.opened_token(NOW - 2 * 24 * 3600), "forged", ""):
        with pytest.raises(Invalid) as old:
            _send(form, opened=stale)
        assert old.value.code == "form_expired"
    for _ in range(services.PER_CLIENT - 1):
        _send(form)
    with pytest.raises(DomainError) as many:
        _send(form)
    assert many.value.status == 429
    assert _send(form, client="10.0.0.2") is not None


def test_closed_and_sign_in_forms(admin_actor: Actor, db: Any) -> None:
    form = _form(admin_actor, enabled=False)
    with pytest.raises(Invalid):
        _send(form)
    services.update_form(form, changes=FormChanges(enabled=True, require_sign_in=True), actor=admin_actor)
    with pytest.raises(Forbidden):
        _send(form)


@pytest.mark.parametrize(("values", "field"), [
    ({"slug": "Not A Slug"}, "slug"),
    ({"slug": "-x"}, "slug"),
    ({"title": " "}, "title"),
    ({"item_kind": "project"}, "item_kind"),
    ({"fields": [FormField("nope")]}, "fields.0.key"),
    ({"project": 999999}, "project"),
])
def test_bad_forms_name_the_field(admin_actor: Actor, db: Any, values: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as error:
        _form(admin_actor, **values)
    assert error.value.field == field and not WebForm.objects.exists()


def test_addresses_are_unique_and_only_admins_make_forms(admin_actor: Actor, agent_actor: Actor, db: Any) -> None:
    _form(admin_actor)
    with pytest.raises(Conflict):
        _form(admin_actor, title="Other")
    with pytest.raises(Forbidden):
        _form(agent_actor, slug="mine")
