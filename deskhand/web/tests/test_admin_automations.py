"""Administration → Automations: the list, the switches and order, the editor of pickers, and the
dry run against an item."""

from __future__ import annotations

from typing import Any

from django.test import Client

from deskhand.agents.models import Agent
from deskhand.automations.models import Automation
from deskhand.automations.rules import Action, ActionType, ItemKind, Rule, Trigger, TriggerType
from deskhand.automations.services import create_automation
from deskhand.core.actors import Actor
from deskhand.work.inputs import ItemDraft
from deskhand.work.services.items import submit_ticket

NEW = "/admin/automations/new?kind=ticket"


def _rule(admin_actor: Actor, name: str, kind: ItemKind = ItemKind.TICKET) -> Automation:
    return create_automation(Rule(name, kind, Trigger(TriggerType.CREATED),
                                  actions=(Action(ActionType.SET_PRIORITY, value="high"),)), actor=admin_actor)


def _form(agent: Agent, **extra: str) -> dict[str, str]:
    form = {"item_kind": "ticket", "name": "Printers to Ana", "enabled": "on", "trigger": "created",
            "all-0-field": "title", "all-0-op": "contains", "all-0-value": "printer",
            "any-0-field": "", "any-0-op": "is", "any-0-value": "",
            "action-0-type": "assign", "action-0-assignee": f"agent:{agent.pk}", "action-0-mode": "team",
            "action-1-type": "note", "action-1-body": "For {{ requester.email }}"}
    form.update(extra)
    return form


def test_the_list_per_kind_switches_and_order(admin_client: Client, admin_actor: Actor) -> None:
    first, second = _rule(admin_actor, "First"), _rule(admin_actor, "Second")
    _rule(admin_actor, "A task rule", ItemKind.TASK)
    page = admin_client.get("/admin/automations").content.decode()
    assert "First" in page and "Second" in page and "A task rule" not in page
    assert "When: Created · Then: Set priority to high" in page
    assert "A task rule" in admin_client.get("/admin/automations?kind=task").content.decode()
    admin_client.post(f"/admin/automations/{first.pk}/toggle")
    first.refresh_from_db()
    assert not first.enabled
    admin_client.post(f"/admin/automations/{second.pk}/move", {"direction": "up"})
    assert list(Automation.objects.filter(item_kind="ticket").order_by("position").values_list("name", flat=True)) \
        == ["Second", "First"]
    response = admin_client.post("/admin/automations/order", {"kind": "ticket", "order": f"{first.pk},{second.pk}"},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert Automation.objects.get(pk=first.pk).position == 0


def test_create_with_pickers_and_see_it_run(admin_client: Client, agent: Agent, agent_actor: Actor) -> None:
    response = admin_client.post(NEW, _form(agent))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = Automation.objects.get()
    assert rule.conditions["all"] == [{"field": "title", "op": "contains", "value": "printer"}]
    assert rule.actions == [{"type": "assign", "agent": agent.pk}, {"type": "note", "body": "For {{ requester.email }}"}]
    ticket = submit_ticket(ItemDraft(title="Printer jam", requester_email="zoe@acme.example"), actor=agent_actor)
    assert list(ticket.assignees.values_list("agent", flat=True)) == [agent.pk]
    edit = admin_client.get(f"/admin/automations/{rule.pk}").content.decode()
    assert 'value="printer"' in edit and f'value="agent:{agent.pk}" selected' in edit


def test_bad_rows_are_refused_at_their_row_and_nothing_is_saved(admin_client: Client, agent: Agent) -> None:
    for extra, words in [({"name": ""}, "Give the automation a name"),
                         ({"all-0-field": "status", "all-0-op": "is", "all-0-value": "archived"}, "not a status"),
                         ({"action-0-assignee": "agent:999999"}, "no agent"),
                         ({"trigger": "elapsed", "minutes": "ten"}, "Minutes are a whole number"),
                         ({"action-1-body": "{{ item.password }}"}, "no placeholder")]:
        response = admin_client.post(NEW, _form(agent, **extra))
        assert response.status_code == 422 and words in response.content.decode(), (extra, response.status_code)
    assert not Automation.objects.exists()


def test_adding_a_row_keeps_what_was_typed(admin_client: Client, agent: Agent) -> None:
    page = admin_client.post(NEW, {**_form(agent), "add": "condition"}).content.decode()
    assert 'value="printer"' in page and 'id="all-1-field"' in page
    assert not Automation.objects.exists()


def test_test_against_an_item_changes_nothing(admin_client: Client, agent: Agent, agent_actor: Actor) -> None:
    ticket = submit_ticket(ItemDraft(title="Printer jam", requester_email="zoe@acme.example"), actor=agent_actor)
    response = admin_client.post("/admin/automations/test", {**_form(agent), "test_item": f"#{ticket.pk}"},
                                 headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200 and "this rule would run" in page and "✓ title contains printer" in page
    assert ticket.assignees.count() == 0 and not Automation.objects.exists()
    missing = admin_client.post("/admin/automations/test", {**_form(agent), "test_item": "#999999"})
    assert missing.status_code == 422 and "There is no item #999999" in missing.content.decode()


def test_agents_cannot_open_it(agent_client: Client, admin_actor: Actor) -> None:
    rule = _rule(admin_actor, "First")
    assert agent_client.get("/admin/automations").status_code == 403
    assert agent_client.post(f"/admin/automations/{rule.pk}/toggle").status_code == 403


def test_unknown_automation_is_a_404(admin_client: Client) -> Any:
    assert admin_client.get("/admin/automations/999999").status_code == 404


def test_the_item_page_says_why(agent_client: Client, admin_actor: Actor, agent_actor: Actor, agent: Agent) -> None:
    create_automation(Rule("Printers to Ana", ItemKind.TICKET, Trigger(TriggerType.CREATED),
                           actions=(Action(ActionType.ASSIGN, agent=agent.pk),)), actor=admin_actor)
    ticket = submit_ticket(ItemDraft(title="Printer jam", requester_email="zoe@acme.example"), actor=agent_actor)
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    assert "Rule “Printers to Ana” ran: assigned to Ana Agent." in page and "no conditions" in page


def test_the_preset_page_shows_then_applies(admin_client: Client) -> None:
    page = admin_client.get("/admin/setup/external").content.decode()
    assert "Set up for external end users" in page and "by customer" in page and "Apply these changes" in page
    assert admin_client.post("/admin/setup/external").status_code == 302
    assert "nothing to change" in admin_client.get("/admin/setup/external").content.decode()
    assert admin_client.get("/admin/setup/cosy").status_code == 404


def test_add_a_rule_from_the_library(admin_client: Client) -> None:
    assert "Close a pending ticket after 7 days" in admin_client.get("/admin/automations").content.decode()
    response = admin_client.post("/admin/automations/library/auto_close")
    rule = Automation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/automations/{rule.pk}"
    assert rule.trigger == {"type": "elapsed", "since": "status_changed", "minutes": 7 * 24 * 60}
    assert admin_client.post("/admin/automations/library/make_coffee").status_code == 302
    assert Automation.objects.count() == 1


def test_project_and_timesheet_rules_are_made_with_their_own_pickers(admin_client: Client, admin_actor: Actor,
                                                                    agent_actor: Actor) -> None:
    from deskhand.work.services.projects import create_portfolio, create_project
    from deskhand.work.services.timesheets import log_time

    clients = create_portfolio("Clients", actor=admin_actor)
    editor = admin_client.get("/admin/automations/new?kind=project").content.decode()
    assert "Add a folder" in editor and "Assign to" not in editor and "Time passed" not in editor
    assert f'<option value="{clients.pk}">Clients</option>' in editor and "Test against a project" in editor
    response = admin_client.post("/admin/automations/new?kind=project", {
        "item_kind": "project", "name": "Customer projects", "enabled": "on", "trigger": "created",
        "all-0-field": "organization", "all-0-op": "is_not", "all-0-value": "",
        "action-0-type": "set_field", "action-0-field": "portfolio", "action-0-value": str(clients.pk),
        "action-1-type": "add_folder", "action-1-field": "portfolio", "action-1-name": "Support"})
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = Automation.objects.get(item_kind="project")
    assert rule.conditions["all"] == [{"field": "organization", "op": "is_not", "value": None}]
    assert rule.actions == [{"type": "set_field", "field": "portfolio", "value": clients.pk},
                            {"type": "add_folder", "name": "Support"}]
    listed = admin_client.get("/admin/automations?kind=project").content.decode()
    assert "Move to portfolio Clients; Add a folder Support" in listed
    project = create_project("Intranet", actor=agent_actor)
    tested = admin_client.post("/admin/automations/test", {
        "item_kind": "project", "name": "x", "trigger": "created", "all-0-field": "organization", "all-0-op": "is_not",
        "action-0-type": "add_folder", "action-0-name": "Support", "test_item": str(project.pk)},
        headers={"HX-Request": "true"}).content.decode()
    assert f"Project #{project.pk}" in tested and "✗ organization is not empty" in tested

    timesheet = admin_client.post("/admin/automations/new?kind=timesheet", {
        "item_kind": "timesheet", "name": "Short calls are free", "enabled": "on", "trigger": "created",
        "all-0-field": "minutes", "all-0-op": "lt", "all-0-value": "10",
        "action-0-type": "set_field", "action-0-field": "billable", "action-0-value": "no"})
    assert timesheet.status_code == 302, timesheet.content.decode()[:2000]
    ticket = submit_ticket(ItemDraft(title="Quick question", requester_email="zoe@acme.example"), actor=agent_actor)
    assert log_time(ticket, minutes=5, actor=agent_actor).billable is False
    bad = admin_client.post("/admin/automations/new?kind=timesheet", {
        "item_kind": "timesheet", "name": "Bad", "trigger": "created",
        "all-0-field": "billable", "all-0-op": "is", "all-0-value": "perhaps",
        "action-0-type": "set_field", "action-0-value": "no"})
    assert bad.status_code == 422 and "Give yes or no." in bad.content.decode()
