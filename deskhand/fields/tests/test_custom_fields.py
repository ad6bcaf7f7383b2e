from __future__ import annotations

from typing import Any

import pytest

from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.fields.inputs import FieldChanges
from deskhand.fields.models import CustomField
from deskhand.fields.services import create_custom_field, delete_custom_field, update_custom_field


def test_the_key_is_derived_from_the_label(db: Any) -> None:
    field = create_custom_field(applies_to="customer", label="Account number", type="text", actor=SYSTEM)
    assert field.key == "account_number" and not field.required


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"applies_to": "planet", "label": "X", "type": "text"}, "applies_to"),
        ({"applies_to": "customer", "label": "X", "type": "colour"}, "type"),
        ({"applies_to": "customer", "label": "", "type": "text"}, "label"),
        ({"applies_to": "customer", "label": "X", "type": "text", "key": "1bad"}, "key"),
        ({"applies_to": "customer", "label": "X", "type": "choice"}, "choices"),
        ({"applies_to": "customer", "label": "X", "type": "choice", "choices": ["a", "A"]}, "choices"),
        ({"applies_to": "customer", "label": "X", "type": "text", "choices": ["a"]}, "choices"),
    ],
)
def test_bad_definitions_are_refused(db: Any, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as error:
        create_custom_field(actor=SYSTEM, **kwargs)
    assert error.value.field == field and not CustomField.objects.exists()


def test_keys_are_unique_per_kind_of_record(db: Any) -> None:
    create_custom_field(applies_to="customer", label="Tier", type="text", actor=SYSTEM)
    create_custom_field(applies_to="organization", label="Tier", type="text", actor=SYSTEM)
    with pytest.raises(Conflict):
        create_custom_field(applies_to="customer", label="Tier", type="number", actor=SYSTEM)


def test_updating_keeps_key_and_type(db: Any) -> None:
    field = create_custom_field(applies_to="customer", label="Tier", type="choice", choices=["A"], actor=SYSTEM)
    update_custom_field(field, changes=FieldChanges(label="Level", choices=["A", "B"], required=True), actor=SYSTEM)
    assert (field.label, field.choices, field.required) == ("Level", ["A", "B"], True)
    with pytest.raises(Invalid) as error:
        update_custom_field(field, changes=FieldChanges(choices=[]), actor=SYSTEM)
    assert error.value.field == "choices"


def test_only_admins_define_fields(db: Any) -> None:
    with pytest.raises(Forbidden):
        create_custom_field(applies_to="customer", label="Tier", type="text", actor=Actor.rule("x"))
    field = create_custom_field(applies_to="customer", label="Tier", type="text", actor=SYSTEM)
    delete_custom_field(field, actor=SYSTEM)
    assert not CustomField.objects.exists()
