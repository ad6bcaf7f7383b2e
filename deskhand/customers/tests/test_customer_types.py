from __future__ import annotations

from typing import Any

import pytest

from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.customers.inputs import CustomerTypeChanges
from deskhand.customers.models import CustomerType, Source
from deskhand.customers.services import (
    create_customer,
    create_customer_type,
    delete_customer_type,
    update_customer_type,
)


def test_a_type_has_a_name_a_colour_and_visibility(db: Any) -> None:
    vip = create_customer_type("VIP", color="#2563EB", visible=False, actor=SYSTEM)
    assert (vip.name, vip.color, vip.visible) == ("VIP", "#2563eb", False)


@pytest.mark.parametrize(("kwargs", "field"), [({"name": ""}, "name"), ({"name": "A", "color": "blue"}, "color"),
                                                ({"name": "A", "color": "#12345"}, "color")])
def test_bad_types_are_refused(db: Any, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as error:
        create_customer_type(actor=SYSTEM, **kwargs)
    assert error.value.field == field and not CustomerType.objects.exists()


def test_names_are_unique(db: Any) -> None:
    create_customer_type("VIP", actor=SYSTEM)
    with pytest.raises(Conflict):
        create_customer_type("vip", actor=SYSTEM)


def test_at_most_ten_types_are_visible(db: Any) -> None:
    for index in range(10):
        create_customer_type(f"Type {index}", actor=SYSTEM)
    with pytest.raises(Invalid) as error:
        create_customer_type("Eleventh", actor=SYSTEM)
    assert error.value.field == "visible"
    hidden = create_customer_type("Hidden", visible=False, actor=SYSTEM)
    with pytest.raises(Invalid):
        update_customer_type(hidden, changes=CustomerTypeChanges(visible=True), actor=SYSTEM)
    update_customer_type(CustomerType.objects.first(), changes=CustomerTypeChanges(visible=False), actor=SYSTEM)
    assert update_customer_type(hidden, changes=CustomerTypeChanges(visible=True), actor=SYSTEM).visible


def test_deleting_a_type_keeps_its_customers(db: Any) -> None:
    vip = create_customer_type("VIP", actor=SYSTEM)
    ana = create_customer("ana@acme.com", customer_type=vip.pk, source=Source.API, actor=SYSTEM)
    delete_customer_type(vip, actor=SYSTEM)
    ana.refresh_from_db()
    assert ana.customer_type is None


def test_only_admins_manage_types(db: Any) -> None:
    agent = Actor.rule("not an admin")
    with pytest.raises(Forbidden):
        create_customer_type("VIP", actor=agent)
