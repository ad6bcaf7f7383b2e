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
    assert agent_api.post("/customers", {"email": "ana@acme.com"}).status_code == 201


def test_admin_only_reads_are_a_403_for_an_agent_token(api: ApiClient, agent_api: ApiClient) -> None:
    """What the web app keeps under Administration is for admin tokens only in the API too."""
    mailbox = api.post("/mailboxes", {"address": "help@acme.example", "imap": {
        "host": "imap.acme.example", "username": "help", "password": "s3cret-imap"}})
    assert mailbox.status_code == 201, mailbox.content
    api.post("/never-follow", {"address": "boss@acme.example"})
    inbound = api.client.post("/api/v1/inbound-emails", b"From: x@y.example\r\nSubject: hi\r\n\r\nhello",
                              content_type="message/rfc822", headers=api.headers).json()
    mailbox_id, inbound_id = mailbox.json()["id"], inbound["id"]
    admin_only = [("get", "/settings"), ("get", "/mailboxes"), ("get", f"/mailboxes/{mailbox_id}"),
                  ("get", "/never-follow"), ("get", "/inbound-emails"), ("get", f"/inbound-emails/{inbound_id}"),
                  ("post", f"/inbound-emails/{inbound_id}/retry"), ("post", f"/mailboxes/{mailbox_id}/test"),
                  ("delete", "/never-follow?address=boss@acme.example")]
    for method, path in admin_only:
        response = getattr(agent_api, method)(path)
        assert response.status_code == 403, (path, response.content)
        assert b"imap.acme.example" not in response.content and b"boss@" not in response.content
        assert response.json()["detail"]
    for method, path in admin_only[:6]:
        assert getattr(api, method)(path).status_code == 200, path


def test_agents_read_what_they_need_to_work(api: ApiClient, agent_api: ApiClient) -> None:
    """Colleagues to assign (without who is an admin), teams, statuses, customer types, custom fields."""
    agents = agent_api.get("/agents")
    assert agents.status_code == 200 and agents.json()["count"] == 2
    for row in agents.json()["items"]:
        assert row["email"] and row["name"] and row["is_admin"] is None and row["created_at"] is None
    assert {row["is_admin"] for row in api.get("/agents").json()["items"]} == {True, False}
    for path in ["/teams", "/statuses", "/customer-types", "/custom-fields"]:
        assert agent_api.get(path).status_code == 200, path


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
