"""Administration → Automations: the rules of each item kind in order, switched on and off and
dragged into place; an editor of pickers; and "Test against an item", which changes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskhand.automations import library, presets, queries, services
from deskhand.automations.inputs import AutomationChanges
from deskhand.automations.models import Automation
from deskhand.automations.rules import ITEM_KINDS, ItemKind, placeholders
from deskhand.automations.stored import action_json
from deskhand.core.errors import DomainError, Invalid, NotFound
from deskhand.core.numbers import id_or_none
from deskhand.web.access import actor, admin_required
from deskhand.web.forms_automations import (
    BLANK_ACTION,
    OP_LABELS,
    SINCE_LABELS,
    Names,
    Pickers,
    action_rows,
    describe_action,
    describe_trigger,
    posted_action_rows,
    read_rule,
    row_indexes,
    text_of,
)
from deskhand.web.http import AgentRequest
from deskhand.work import queries as work_queries

KINDS = {"ticket": gettext_lazy("Tickets"), "task": gettext_lazy("Tasks"), "project": gettext_lazy("Projects"),
         "timesheet": gettext_lazy("Timesheets")}
# What "Test against" asks for, per kind.
TEST_SUBJECT = {"ticket": gettext_lazy("Ticket"), "task": gettext_lazy("Task"), "project": gettext_lazy("Project"),
                "timesheet": gettext_lazy("Time entry")}


def _kind(value: str | None) -> str:
    return value if value in KINDS else "ticket"


def _automation(automation_id: int) -> Automation:
    try:
        return queries.get_automation(automation_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


@require_GET
@admin_required
def automation_list(request: AgentRequest) -> HttpResponse:
    kind = _kind(request.GET.get("kind"))
    names = Names.load()
    rows = [{"row": row, "trigger": describe_trigger(row.trigger),
             "actions": [describe_action(action, names) for action in row.actions]}
            for row in queries.automation_list(item_kind=kind)]
    return render(request, "web/admin/automations.html", {"kind": kind, "kinds": KINDS, "rows": rows,
                                                           "library": library.LIBRARY if kind == "ticket" else []})


def _back(kind: str) -> HttpResponse:
    return redirect(f"{reverse('web:admin-automations')}?kind={kind}")


@require_POST
@admin_required
def toggle(request: AgentRequest, automation_id: int) -> HttpResponse:
    row = _automation(automation_id)
    try:
        services.update_automation(row, changes=AutomationChanges(enabled=not row.enabled), actor=actor(request))
        messages.success(request, (gettext("%(name)s is on.") if row.enabled else gettext("%(name)s is off.")) % {"name": row.name})
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back(row.item_kind)


@require_POST
@admin_required
def move(request: AgentRequest, automation_id: int) -> HttpResponse:
    """↑ / ↓ beside each rule (what a drag does, from the keyboard)."""
    row = _automation(automation_id)
    order = list(queries.automation_list(item_kind=row.item_kind).values_list("pk", flat=True))
    index = order.index(row.pk)
    target = index + (-1 if request.POST.get("direction") == "up" else 1)
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
        services.reorder_automations(row.item_kind, order, actor=actor(request))
    return _back(row.item_kind)


@require_POST
@admin_required
def reorder(request: AgentRequest) -> HttpResponse:
    """The order after a drag: `order` is the ids, comma-separated."""
    kind = _kind(request.POST.get("kind"))
    ids = [number for part in request.POST.get("order", "").split(",")[:1000]
           if (number := id_or_none(part.strip())) is not None]
    services.reorder_automations(kind, ids, actor=actor(request))
    if request.htmx:
        return HttpResponse(status=204)
    return _back(kind)


@require_POST
@admin_required
def delete(request: AgentRequest, automation_id: int) -> HttpResponse:
    row = _automation(automation_id)
    services.delete_automation(row, actor=actor(request))
    messages.success(request, gettext("%(name)s deleted.") % {"name": row.name})
    return _back(row.item_kind)


# -- the editor ------------------------------------------------------------------------------------


def _rows_from_rule(row: Automation) -> dict[str, Any]:
    conditions = row.conditions or {}
    return {
        "name": row.name, "enabled": row.enabled, "trigger": row.trigger.get("type", "created"),
        "trigger_field": row.trigger.get("field") or "", "trigger_from": text_of(row.trigger.get("from")),
        "trigger_to": text_of(row.trigger.get("to")), "since": row.trigger.get("since") or "",
        "minutes": row.trigger.get("minutes") or "",
        "all": [{"field": c["field"], "op": c["op"], "value": text_of(c.get("value"))} for c in conditions.get("all", [])],
        "any": [{"field": c["field"], "op": c["op"], "value": text_of(c.get("value"))} for c in conditions.get("any", [])],
        "actions": action_rows(row.actions),
    }


def _rows_from_post(data: QueryDict) -> dict[str, Any]:
    def rows(prefix: str, names: tuple[str, ...]) -> list[dict[str, str]]:
        return [{name: data.get(f"{prefix}-{i}-{name}", "") for name in names} for i in row_indexes(data, prefix)]

    return {
        "name": data.get("name", ""), "enabled": data.get("enabled") == "on", "trigger": data.get("trigger", ""),
        "trigger_field": data.get("trigger_field", ""), "trigger_from": data.get("trigger_from", ""),
        "trigger_to": data.get("trigger_to", ""), "since": data.get("since", ""), "minutes": data.get("minutes", ""),
        "all": rows("all", ("field", "op", "value")), "any": rows("any", ("field", "op", "value")),
        "actions": posted_action_rows(data),
    }


BLANK_CONDITION = {"field": "", "op": "is", "value": ""}


def _editor(request: AgentRequest, *, kind: str, values: dict[str, Any], row: Automation | None,
            error: DomainError | None = None, status: int = 200, **extra: Any) -> HttpResponse:
    for key, blank in (("all", BLANK_CONDITION), ("any", BLANK_CONDITION)):
        if not values[key] or any(values[key][-1].values()) and values[key][-1].get("field"):
            values[key] = [*values[key], dict(blank)]
    if not values["actions"] or values["actions"][-1].get("type"):
        values["actions"] = [*values["actions"], dict(BLANK_ACTION)]
    pickers = Pickers.load(kind)
    context = {
        "kind": kind, "kinds": KINDS, "values": values, "automation": row, "pickers": pickers,
        "triggers": pickers.triggers, "since_choices": [(key, gettext(label)) for key, label in SINCE_LABELS.items()],
        "ops": [(key, gettext(label)) for key, label in OP_LABELS.items()],
        "action_types": pickers.actions, "placeholders": placeholders(ItemKind(kind)) if kind != ItemKind.PROJECT else (), "error": error,
        "test_subject": TEST_SUBJECT[kind],
        "error_at": error.field if error else "", **extra,
    }
    return render(request, "web/admin/automation_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def edit(request: AgentRequest, automation_id: int | None = None) -> HttpResponse:
    row = _automation(automation_id) if automation_id is not None else None
    kind = row.item_kind if row is not None else _kind(request.GET.get("kind") or request.POST.get("item_kind"))
    if request.method == "GET":
        values = _rows_from_rule(row) if row is not None else {
            "name": "", "enabled": True, "trigger": "created", "trigger_field": "", "trigger_from": "",
            "trigger_to": "", "since": "", "minutes": "", "all": [], "any": [], "actions": []}
        return _editor(request, kind=kind, values=values, row=row)
    values = _rows_from_post(request.POST)
    if request.POST.get("add"):  # "+ Add a condition / an action": the same form with a row more
        return _editor(request, kind=kind, values=values, row=row)
    try:
        rule = read_rule(request.POST, kind)
        if row is None:
            row = services.create_automation(rule, actor=actor(request))
        else:
            services.update_automation(row, changes=AutomationChanges(
                name=rule.name, trigger=rule.trigger, all=rule.all, any=rule.any, actions=rule.actions,
                enabled=rule.enabled), actor=actor(request))
    except DomainError as exc:
        return _editor(request, kind=kind, values=values, row=row, error=exc, status=exc.status)
    messages.success(request, gettext("Automation %(name)s saved.") % {"name": row.name})
    return _back(kind)


@require_POST
@admin_required
def test(request: AgentRequest) -> HttpResponse:
    """The editor's rule, as typed, against `#123`: what would match and what it would do."""
    kind = _kind(request.POST.get("item_kind"))
    context: dict[str, Any] = {}
    try:
        number = id_or_none(request.POST.get("test_item", "").strip().lstrip("#"))
        if number is None:
            raise Invalid("item_required", gettext("Give a %(lower)s's number, such as #123.") % {"lower": TEST_SUBJECT[kind].lower()},
                          field="test_item")
        rule = read_rule(request.POST, kind)
        if rule.item_kind in ITEM_KINDS:
            try:
                item = work_queries.get_item(number)
            except NotFound:
                raise Invalid("unknown_item", gettext("There is no item #%(number)s.") % {"number": number}, field="test_item") from None
            result = services.test_against_item(rule, item)
            subject = {"title": f"{item.reference} {item.title}", "kind": item.kind}
        else:
            result = services.test_against_record(rule, number)
            subject = {"title": f"{TEST_SUBJECT[kind]} #{number}", "kind": TEST_SUBJECT[kind].lower()}
        names = Names.load()
        context = {"result": result, "subject": subject,
                   "actions": [describe_action(action_json(action), names) for action in result.actions]}
    except DomainError as exc:
        context = {"test_error": exc.message}
    return render(request, "web/admin/automation_edit.html#test-result", context,
                  status=422 if "test_error" in context else 200)





@require_http_methods(["GET", "POST"])
@admin_required
def preset(request: AgentRequest, name: str) -> HttpResponse:
    """*Set up for internal / external end users*: what will change, then the change."""
    if name not in presets.PRESETS:
        raise Http404(gettext("There is no such preset."))
    if request.method == "POST":
        changes = presets.apply_preset(name, actor=actor(request))
        messages.success(request, ngettext("Set up for %(name)s: %(count)s change.", "Set up for %(name)s: %(count)s changes.",
                                           len(changes)) % {"name": presets.PRESETS[name], "count": len(changes)})
        return redirect("web:admin-automations")
    return render(request, "web/admin/preset.html", {"name": name, "title": presets.PRESETS[name],
                                                     "changes": presets.preview(name)})


@require_POST
@admin_required
def add_library_rule(request: AgentRequest, key: str) -> HttpResponse:
    """One click adds a library rule; its editor opens to adjust it."""
    try:
        row = library.add_from_library(key, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("web:admin-automations")
    messages.success(request, gettext("Automation %(name)s added from the library and switched on.") % {"name": row.name})
    return redirect("web:admin-automation", automation_id=row.pk)
