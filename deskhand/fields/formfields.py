"""Form fields for custom field definitions, for every interface that asks for their values (the
agents' app, the portal's web forms): one field per definition, labelled as the admin named it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from deskhand.fields.models import CustomField, FieldType

CF_PREFIX = "cf_"


def custom_form_fields(applies_to: str, values: dict[str, Any] | None = None, *, keys: Sequence[str] | None = None,
                       required: Sequence[str] = ()) -> dict[str, forms.Field]:
    """One form field per definition of `applies_to` (or of `keys` only, in that order); a field
    is marked required when its definition or `required` says so (the service checks it)."""
    result: dict[str, forms.Field] = {}
    values = values or {}
    definitions = list(CustomField.objects.filter(applies_to=applies_to))
    if keys is not None:
        by_key = {definition.key: definition for definition in definitions}
        definitions = [by_key[key] for key in keys if key in by_key]
    for definition in definitions:
        current = values.get(definition.key)
        common: dict[str, Any] = {"label": definition.label, "required": False, "help_text": definition.help_text}
        field: forms.Field
        if definition.type == FieldType.BOOLEAN:
            field = forms.BooleanField(initial=bool(current), **common)
        elif definition.type == FieldType.CHOICE:
            field = forms.ChoiceField(choices=[("", "—")] + [(c, c) for c in definition.choices], initial=current,
                                      **common)
        elif definition.type == FieldType.MULTI_CHOICE:
            field = forms.MultipleChoiceField(choices=[(c, c) for c in definition.choices], initial=current or [],
                                              widget=forms.CheckboxSelectMultiple, **common)
        else:
            input_type = {FieldType.NUMBER: "number", FieldType.DATE: "date", FieldType.URL: "url",
                          FieldType.EMAIL: "email"}.get(FieldType(definition.type), "text")
            widget = forms.TextInput(attrs={"type": input_type, "step": "any"} if input_type == "number"
                                     else {"type": input_type})
            field = forms.CharField(initial="" if current is None else current, widget=widget, **common)
        if definition.required or definition.key in required:
            field.label = f"{definition.label} *"
        result[CF_PREFIX + definition.key] = field
    return result
