from __future__ import annotations

from typing import Any

from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Source
from deskhand.customers.queries import detail_panel, get_organization
from deskhand.customers.services import create_customer
from deskhand.fields.services import create_custom_field


def test_the_panel_follows_the_configured_choice_and_order(db: Any) -> None:
    create_custom_field(applies_to="customer", label="Products", type="multi_choice", choices=["Mail", "Chat"],
                        actor=SYSTEM)
    update_settings({"customer_panel": ["custom_fields.products", "organization", "email"]}, actor=SYSTEM)
    ana = create_customer("ana@acme.com", custom_fields={"products": ["Chat", "Mail"]}, source=Source.API,
                          actor=SYSTEM)
    assert detail_panel(ana) == [{"label": "Products", "value": "Mail, Chat"},
                                 {"label": "Organization", "value": "acme.com"},
                                 {"label": "Email", "value": "ana@acme.com"}]
    organization = get_organization(ana.organization_id)
    assert [row["label"] for row in detail_panel(organization)] == ["Name", "Domains", "Customers", "Created"]
    assert detail_panel(organization)[2]["value"] == 1
