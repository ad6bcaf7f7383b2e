"""Custom field definitions and the one validator every entry point runs values through."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext

from deskhand.audit.services import diff, record
from deskhand.core.actors import Actor
from deskhand.core.emailaddr import AddressError, parse_email
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.core.inputs import UNSET, given
from deskhand.core.text import clean_text, has_control_characters
from deskhand.fields.inputs import FieldChanges
from deskhand.fields.models import AppliesTo, CustomField, FieldType

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
CHOICE_TYPES = {FieldType.CHOICE, FieldType.MULTI_CHOICE}
MAX_TEXT = 10_000
MAX_CHOICES = 200
TRUE_WORDS = {"true", "yes", "y", "1", "on"}
FALSE_WORDS = {"false", "no", "n", "0", "off"}
_url_validator = URLValidator(schemes=["http", "https"])


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can change custom fields."))


def _clean_choices(field_type: str, choices: Sequence[str]) -> list[str]:
    if field_type not in CHOICE_TYPES:
        if choices:
            raise Invalid("choices_not_allowed", gettext("Only one-of and many-of fields have choices."), field="choices")
        return []
    if not choices:
        raise Invalid("choices_required", gettext("List at least one choice."), field="choices")
    cleaned: list[str] = []
    for choice in choices:
        text = clean_text(choice, field="choices", max_length=100, required=True, label="choice")
        if text.lower() in {c.lower() for c in cleaned}:
            raise Invalid("duplicate_choice", gettext("“%(text)s” is listed twice.") % {"text": text}, field="choices")
        cleaned.append(text)
    if len(cleaned) > MAX_CHOICES:
        raise Invalid("too_many_choices", gettext("A field has at most %(value)s choices.") % {"value": MAX_CHOICES}, field="choices")
    return cleaned


def _clean_label(label: str) -> str:
    return clean_text(label, field="label", max_length=100, required=True)


@transaction.atomic
def create_custom_field(
    *,
    applies_to: str,
    label: str,
    type: str,
    key: str = "",
    required: bool = False,
    choices: list[str] | None = None,
    help_text: str = "",
    actor: Actor,
) -> CustomField:
    """A new custom field; its key is derived from the label when not given."""
    _require_admin(actor)
    if applies_to not in AppliesTo.values:
        raise Invalid("invalid_applies_to", f"applies_to is one of {', '.join(AppliesTo.values)}.",
                      field="applies_to")
    if type not in FieldType.values:
        raise Invalid("invalid_type", f"type is one of {', '.join(FieldType.values)}.", field="type")
    label = _clean_label(label)
    key = key if isinstance(key, str) and key else slugify(label).replace("-", "_")
    if not KEY_PATTERN.fullmatch(key):
        raise Invalid("invalid_key", gettext("A key starts with a letter and has only a-z, 0-9 and _ (50 at most)."),
                      field="key")
    field = CustomField(
        applies_to=applies_to, key=key, label=label, type=type, required=bool(required),
        choices=_clean_choices(type, choices or []),
        help_text=clean_text(help_text, field="help_text", max_length=300, multiline=True),
        position=CustomField.objects.filter(applies_to=applies_to).count(),
    )
    try:
        with transaction.atomic():
            field.save()
    except IntegrityError:
        raise Conflict("field_exists", gettext("A %(applies_to)s field with key “%(key)s” already exists.") % {"applies_to": applies_to, "key": key},
                       field="key") from None
    record(actor=actor, action="custom_field.created", object_type="custom_field", object_id=field.pk,
           object_label=str(field), changes={"type": type, "label": label, "required": field.required})
    return field


@transaction.atomic
def update_custom_field(field: CustomField, *, changes: FieldChanges, actor: Actor) -> CustomField:
    """Change label, required, choices, help text or position; key and type are fixed."""
    _require_admin(actor)
    names = list(given(changes))
    before = {name: getattr(field, name) for name in names}
    if changes.label is not UNSET:
        field.label = _clean_label(changes.label)
    if changes.required is not UNSET:
        field.required = changes.required
    if changes.choices is not UNSET:
        field.choices = _clean_choices(field.type, changes.choices)
    if changes.help_text is not UNSET:
        field.help_text = clean_text(changes.help_text, field="help_text", max_length=300, multiline=True)
    if changes.position is not UNSET:
        if changes.position < 0:
            raise Invalid("invalid_position", gettext("position is a whole number, 0 or more."), field="position")
        field.position = changes.position
    field.save()
    after = {name: getattr(field, name) for name in names}
    record(actor=actor, action="custom_field.updated", object_type="custom_field", object_id=field.pk,
           object_label=str(field), changes=diff(before, after))
    return field


@transaction.atomic
def delete_custom_field(field: CustomField, *, actor: Actor) -> None:
    """Remove the definition; stored values are no longer shown or exported."""
    _require_admin(actor)
    record(actor=actor, action="custom_field.deleted", object_type="custom_field", object_id=field.pk,
           object_label=str(field))
    field.delete()


def _coerce(field: CustomField, value: Any) -> Any:
    """One value of `field`, checked and in its stored form; raises Invalid naming the field."""
    name = f"custom_fields.{field.key}"

    def bad(message: str) -> Invalid:
        return Invalid("invalid_custom_field", f"{field.label}: {message}", field=name)

    kind = field.type
    if kind == FieldType.TEXT:
        if not isinstance(value, str):
            raise bad("enter text.")
        if len(value) > MAX_TEXT:
            raise bad(f"at most {MAX_TEXT} characters.")
        if has_control_characters(value):
            raise bad("remove the control characters.")
        return value.strip()
    if kind == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise bad("enter a number.")
        try:
            number = Decimal(str(value).strip().replace(",", "")) if isinstance(value, str) else Decimal(value)
        except InvalidOperation:
            raise bad("enter a number.") from None
        if not number.is_finite() or abs(number) > Decimal("1e15"):
            raise bad("enter a finite number below 10^15.")
        as_float = float(number)
        if math.isfinite(as_float) and number == number.to_integral_value():
            return int(number)
        return as_float
    if kind == FieldType.DATE:
        if not isinstance(value, str):
            raise bad("enter a date as YYYY-MM-DD.")
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise bad("enter a date as YYYY-MM-DD.") from None
    if kind == FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return value.strip().lower() in TRUE_WORDS
        raise bad("enter yes or no.")
    if kind == FieldType.CHOICE:
        if not isinstance(value, str):
            raise bad(f"choose one of {', '.join(field.choices)}.")
        return _match_choice(field, value, bad)
    if kind == FieldType.MULTI_CHOICE:
        items = [part for part in value.split(";")] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise bad(f"choose from {', '.join(field.choices)}.")
        picked = {_match_choice(field, item, bad) for item in items if item.strip()}
        return [choice for choice in field.choices if choice in picked]
    if kind == FieldType.URL:
        if not isinstance(value, str):
            raise bad("enter a web address.")
        try:
            _url_validator(value.strip())
        except ValidationError:
            raise bad("enter a web address starting with http:// or https://.") from None
        return value.strip()
    if kind == FieldType.EMAIL:
        if not isinstance(value, str):
            raise bad("enter an email address.")
        try:
            return parse_email(value).address
        except AddressError as exc:
            raise bad(str(exc)) from None
    raise bad("unknown field type.")  # pragma: no cover - types are a closed set


def _match_choice(field: CustomField, value: str, bad: Any) -> str:
    for choice in field.choices:
        if choice.lower() == value.strip().lower():
            return str(choice)
    raise bad(f"choose one of {', '.join(field.choices)}.")


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_values(
    applies_to: str,
    values: Any,
    *,
    existing: dict[str, Any] | None = None,
    enforce_required: bool,
    definitions: dict[str, CustomField] | None = None,
) -> dict[str, Any]:
    """`existing` updated with `values`, every value checked against its field definition
    (`definitions`, by key: read once by a caller checking a batch; else read here).

    An empty value clears the field. Unknown keys and wrong types raise Invalid naming
    `custom_fields.<key>`. With `enforce_required`, every required field must end up with a value.
    """
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise Invalid("invalid_custom_fields", gettext("custom_fields is an object of key: value."), field="custom_fields")
    if not values and not existing and not enforce_required:
        return {}  # nothing to check: the definitions need not be read (each mail makes a customer and a ticket)
    if definitions is None:
        definitions = {field.key: field for field in CustomField.objects.filter(applies_to=applies_to)}
    result = {key: value for key, value in (existing or {}).items() if key in definitions}
    for key, value in values.items():
        field = definitions.get(key)
        if field is None:
            raise Invalid("unknown_custom_field", gettext("There is no %(applies_to)s field “%(key)s”.") % {"applies_to": applies_to, "key": key},
                          field=f"custom_fields.{key}")
        if _is_empty(value):
            result.pop(key, None)
        else:
            result[key] = _coerce(field, value)
    if enforce_required:
        for field in definitions.values():
            if field.required and _is_empty(result.get(field.key)):
                raise Invalid("custom_field_required", gettext("%(label)s is required.") % {"label": field.label},
                              field=f"custom_fields.{field.key}")
    return result
