from __future__ import annotations

from deskhand.conftest import ApiClient


def test_settings_read_and_change(api: ApiClient) -> None:
    settings = api.get("/settings").json()
    assert settings["auto_create_organizations"] is True and settings["extra_free_mail_domains"] == []
    assert "customer_panel" in settings and "organization_panel" in settings
    assert "portal_visibility" in settings and "default_view" in settings
    changed = api.patch("/settings", {"auto_create_organizations": False, "extra_free_mail_domains": ["@ISP.example"]})
    assert changed.status_code == 200 and changed.json()["extra_free_mail_domains"] == ["isp.example"]
    assert api.post("/customers", {"email": "ana@newco.com"}).json()["organization"] is None


def test_detail_panels_are_settings(api: ApiClient) -> None:
    api.post("/custom-fields", {"applies_to": "organization", "label": "Tier", "type": "text"})
    response = api.patch("/settings", {"organization_panel": ["name", "custom_fields.tier", "domains"]})
    assert response.json()["organization_panel"] == ["name", "custom_fields.tier", "domains"]


def test_non_admins_get_a_403_for_admin_changes(agent_api: ApiClient) -> None:
    assert agent_api.patch("/settings", {"auto_create_organizations": False}).status_code == 403
    assert agent_api.post("/customer-types", {"name": "VIP"}).status_code == 403
    assert agent_api.post("/custom-fields", {"applies_to": "customer", "label": "X", "type": "text"}).status_code == 403
    assert agent_api.post("/agents", {"email": "x@deskhand.test"}).status_code == 403
    assert agent_api.post("/teams", {"name": "Support"}).status_code == 403
    assert agent_api.get("/settings").status_code == 200
    assert agent_api.post("/customers", {"email": "ana@acme.com"}).status_code == 201


def test_agents_and_teams(api: ApiClient) -> None:
    agent = api.post("/agents", {"email": "bo@deskhand.test", "name": "Bo"})
    assert agent.status_code == 201 and agent.json()["is_admin"] is False
    assert api.post("/agents", {"email": "BO@deskhand.test"}).status_code == 409
    team = api.post("/teams", {"name": "Support", "members": [agent.json()["id"]]})
    assert team.status_code == 201 and team.json()["members"] == [agent.json()["id"]]
    assert api.get("/agents").json()["count"] == 2
    assert api.get("/agents").json()["items"][1]["teams"] == [team.json()["id"]]
    assert api.get("/teams").json()["items"][0]["name"] == "Support"


def test_customer_types_and_custom_fields_lifecycle(api: ApiClient) -> None:
    vip = api.post("/customer-types", {"name": "VIP"}).json()
    assert api.patch(f"/customer-types/{vip['id']}", {"color": "#00ff00"}).json()["color"] == "#00ff00"
    assert api.get("/customer-types").json()["count"] == 1
    assert api.delete(f"/customer-types/{vip['id']}").status_code == 204
    field = api.post("/custom-fields", {"applies_to": "ticket", "label": "Severity", "type": "choice",
                                        "choices": ["S1", "S2"]}).json()
    assert api.get("/custom-fields", {"applies_to": "ticket"}).json()["items"][0]["key"] == "severity"
    assert api.get("/custom-fields", {"applies_to": "customer"}).json()["count"] == 0
    assert api.patch(f"/custom-fields/{field['id']}", {"required": True}).json()["required"] is True
    assert api.delete(f"/custom-fields/{field['id']}").status_code == 204
