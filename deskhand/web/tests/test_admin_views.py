from __future__ import annotations

from django.test import Client

from deskhand.config.queries import get_settings
from deskhand.customers.models import CustomerType
from deskhand.fields.models import CustomField


def test_agents_who_are_not_admins_get_403(agent_client: Client) -> None:
    assert agent_client.get("/admin/customers").status_code == 403
    assert agent_client.post("/admin/customers/filing", {"auto_create_organizations": ""}).status_code == 403
    assert get_settings()["auto_create_organizations"] is True


def test_filing_settings(admin_client: Client) -> None:
    page = admin_client.get("/admin/customers").content.decode()
    assert "Automatically create customer organizations" in page
    admin_client.post("/admin/customers/filing", {"extra_free_mail_domains": "@Provider.example\nmail.example"})
    settings = get_settings()
    assert settings["auto_create_organizations"] is False
    assert settings["extra_free_mail_domains"] == ["mail.example", "provider.example"]
    response = admin_client.post("/admin/customers/filing", {"auto_create_organizations": "on",
                                                             "extra_free_mail_domains": "a..b"})
    assert response.status_code == 422 and get_settings()["auto_create_organizations"] is False


def test_customer_types_and_custom_fields(admin_client: Client) -> None:
    admin_client.post("/admin/customers/types", {"name": "VIP", "color": "#ff0000", "visible": "on"})
    vip = CustomerType.objects.get()
    admin_client.post(f"/admin/customers/types/{vip.pk}", {"name": "Gold", "color": "#00ff00", "action": "save"})
    vip.refresh_from_db()
    assert (vip.name, vip.color, vip.visible) == ("Gold", "#00ff00", False)
    response = admin_client.post("/admin/customers/fields", {"applies_to": "customer", "label": "Tier",
                                                             "type": "choice", "choices": ""})
    assert response.status_code == 422 and "choice" in response.content.decode()
    admin_client.post("/admin/customers/fields", {"applies_to": "organization", "label": "Tier", "type": "choice",
                                                  "choices": "Gold\nSilver"})
    assert CustomField.objects.get().choices == ["Gold", "Silver"]


def test_panel_designer_orders_properties(admin_client: Client) -> None:
    admin_client.post("/admin/customers/fields", {"applies_to": "customer", "label": "Plan", "type": "text"})
    admin_client.post("/admin/customers/panels/customer", {
        "property": ["email", "customer_type", "custom_fields.plan"],
        "position:email": "2", "position:customer_type": "3", "position:custom_fields.plan": "1",
    })
    assert get_settings()["customer_panel"] == ["custom_fields.plan", "email", "customer_type"]
