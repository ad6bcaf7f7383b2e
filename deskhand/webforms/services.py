"""Web forms: admins make them; visitors submit them. A submission finds or creates the customer
by the usual rules and files the request through the same service as the portal. Spam is kept
out without a third-party captcha: a hidden field people never fill (a filled one is accepted
and dropped, so a bot learns nothing), a signed moment the page was served (too quick or a day
old is refused), and a cap per client."""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import replace
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deskhand.audit.services import diff, record
from deskhand.core.actors import Actor
from deskhand.core.emailaddr import AddressError, parse_email
from deskhand.core.errors import Conflict, DomainError, Forbidden, Invalid
from deskhand.core.i18n import supported_language
from deskhand.core.inputs import UNSET
from deskhand.core.text import clean_text
from deskhand.customers.models import Customer, Source
from deskhand.customers.services import find_or_create_customer
from deskhand.fields.models import CustomField
from deskhand.fields.services import clean_values
from deskhand.webforms.inputs import FormChanges, FormField, FormInput, Submission
from deskhand.webforms.models import FormSubmission, WebForm
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Channel, Item, Kind, Project
from deskhand.work.services.messages import submit_request

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
MAX_FIELDS = 30
MIN_SECONDS = 2  # a person takes longer than this to fill a form
MAX_AGE = 24 * 3600  # a page older than this is reloaded
PER_CLIENT = 10  # requests filed from one client in WINDOW (refused ones do not count)
WINDOW = datetime.timedelta(minutes=10)
SALT = "deskhand.webforms.opened"


class TooMany(DomainError):
    status = 429


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("admin_required", "Only an administrator can change web forms.")


def _state(form: WebForm) -> dict[str, object]:
    return {"slug": form.slug, "title": form.title, "intro": form.intro, "fields": form.fields,
            "item_kind": form.item_kind, "project": form.project_id, "enabled": form.enabled,
            "require_sign_in": form.require_sign_in, "in_portal": form.in_portal}


def _apply(form: WebForm, values: FormInput) -> None:
    slug = values.slug.strip().lower()
    if not SLUG.match(slug):
        raise Invalid("invalid_slug", "The address is 1 to 60 lower-case letters, digits and dashes.", field="slug")
    if values.item_kind not in (Kind.TICKET, Kind.TASK):
        raise Invalid("invalid_item_kind", "A form makes tickets or tasks.", field="item_kind")
    if len(values.fields) > MAX_FIELDS:
        raise Invalid("too_many_fields", f"A form asks for at most {MAX_FIELDS} fields.", field="fields")
    known = set(CustomField.objects.filter(applies_to=values.item_kind).values_list("key", flat=True))
    keys: list[str] = []
    for index, entry in enumerate(values.fields):
        if entry.key not in known:
            raise Invalid("unknown_field", f"There is no {values.item_kind} field “{entry.key[:60]}”.",
                          field=f"fields.{index}.key")
        if entry.key in keys:
            raise Invalid("duplicate_field", f"“{entry.key}” is asked for twice.", field=f"fields.{index}.key")
        keys.append(entry.key)
    if values.project is not None and not Project.objects.filter(pk=values.project).exists():
        raise Invalid("unknown_project", f"There is no project {values.project}.", field="project")
    form.slug = slug
    form.title = clean_text(values.title, field="title", max_length=200, required=True)
    form.intro = clean_text(values.intro, field="intro", max_length=5000, multiline=True)
    form.fields = [{"key": entry.key, "required": entry.required} for entry in values.fields]
    form.item_kind = values.item_kind
    form.project_id = values.project
    form.enabled, form.require_sign_in, form.in_portal = values.enabled, values.require_sign_in, values.in_portal


def _save(form: WebForm) -> None:
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError:
        raise Conflict("form_exists", f"A form at /forms/{form.slug} exists already.", field="slug") from None


def _record(form: WebForm, action: str, actor: Actor, changes: dict[str, Any]) -> None:
    record(actor=actor, action=f"webform.{action}", object_type="webform", object_id=form.pk,
           object_label=form.title, changes=changes)


@transaction.atomic
def create_form(values: FormInput, *, actor: Actor) -> WebForm:
    _require_admin(actor)
    form = WebForm()
    _apply(form, values)
    _save(form)
    _record(form, "created", actor, _state(form))
    return form


def _as_input(form: WebForm) -> FormInput:
    return FormInput(slug=form.slug, title=form.title, intro=form.intro,
                     fields=[FormField(entry["key"], bool(entry.get("required"))) for entry in form.fields],
                     item_kind=form.item_kind, project=form.project_id, enabled=form.enabled,
                     require_sign_in=form.require_sign_in, in_portal=form.in_portal)


@transaction.atomic
def update_form(form: WebForm, *, changes: FormChanges, actor: Actor) -> WebForm:
    _require_admin(actor)
    before = _state(form)
    given = {key: value for key, value in vars(changes).items() if value is not UNSET}
    _apply(form, replace(_as_input(form), **given))
    _save(form)
    changed = diff(before, _state(form))
    if changed:
        _record(form, "updated", actor, changed)
    return form


@transaction.atomic
def delete_form(form: WebForm, *, actor: Actor) -> None:
    _require_admin(actor)
    _record(form, "deleted", actor, _state(form))
    form.delete()


def opened_token(now: float | None = None) -> str:
    """The signed moment a form page was served, sent back with the submission."""
    return signing.dumps(int(now if now is not None else time.time()), salt=SALT)


def _check_timing(opened: str, now: float) -> None:
    try:
        served = signing.loads(opened[:200], salt=SALT)
    except signing.BadSignature:
        raise Invalid("form_expired", _("This form has expired. Reload the page and send it again."),
                      field="form") from None
    if not isinstance(served, int) or now - served > MAX_AGE:
        raise Invalid("form_expired", _("This form has expired. Reload the page and send it again."), field="form")
    if now - served < MIN_SECONDS:
        raise Invalid("too_fast", _("That was quicker than a person can type. Wait a moment and send it again."),
                      field="form")


def _check_rate(client: str) -> None:
    since = timezone.now() - WINDOW
    FormSubmission.objects.filter(created_at__lt=timezone.now() - datetime.timedelta(hours=1)).delete()
    if FormSubmission.objects.filter(client=client[:64], created_at__gte=since).count() >= PER_CLIENT:
        raise TooMany("too_many_submissions", _("Too many requests from here. Try again in a few minutes."),
                      field="form")


@transaction.atomic
def submit(form: WebForm, submission: Submission, *, now: float | None = None) -> Item | None:
    """File a visitor's request. None when the hidden trap field was filled: nothing is filed, and
    the page thanks the sender as usual."""
    if not form.enabled:
        raise Invalid("form_disabled", _("This form is closed."), field="form")
    _check_timing(submission.opened, now if now is not None else time.time())
    _check_rate(submission.client)
    if submission.trap.strip():
        FormSubmission.objects.create(form=form, client=submission.client[:64])
        return None
    if form.require_sign_in and submission.customer_id is None:
        raise Forbidden("sign_in_required", _("Sign in to send this form."))
    wanted = [entry["key"] for entry in form.fields]
    values = {key: value for key, value in submission.custom_fields.items() if key in wanted}
    for entry in form.fields:
        if entry.get("required") and values.get(entry["key"]) in (None, "", [], False):
            raise Invalid("field_required", _("This field is required."), field=f"custom_fields.{entry['key']}")
    cleaned = clean_values(form.item_kind, values, enforce_required=False)
    if submission.customer_id is not None:
        customer = Customer.objects.get(pk=submission.customer_id)
    else:
        try:
            parse_email(submission.email[:1000])
        except AddressError:  # said in the visitor's language, not the address parser's
            raise Invalid("invalid_email", _("Enter a valid email address."), field="email") from None
        customer, _created = find_or_create_customer(submission.email[:1000], name=submission.name.strip()[:200],
                                                     language=supported_language(submission.language),
                                                     source=Source.FORM, actor=Actor.customer(submission.email[:254]))
    title = clean_text(submission.title, field="title", max_length=300, required=True)
    body = clean_text(submission.description, field="description", max_length=100_000, required=True,
                      multiline=True)
    item = submit_request(ItemDraft(title=title, requester=customer, project=form.project_id,
                                    custom_fields=cleaned), body=body, channel=Channel.FORM,
                          actor=Actor.customer(customer.email), kind=form.item_kind)
    FormSubmission.objects.create(form=form, client=submission.client[:64])
    return item


def portal_forms() -> list[WebForm]:
    """The open forms the portal's new-request page offers."""
    return list(WebForm.objects.filter(enabled=True, in_portal=True).order_by("title")[:50])
