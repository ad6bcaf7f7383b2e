"""Automations, an organization's routing section, and the editor's dry run."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field

from deskhand.api.auth import actor_of, require_admin
from deskhand.api.pagination import ListParams, paginate
from deskhand.api.schemas import (
    AutomationIn,
    AutomationListOut,
    AutomationOut,
    AutomationPatch,
    AutomationTestIn,
    AutomationTestOut,
    RoutingIn,
    RoutingOut,
)
from deskhand.automations import queries, services
from deskhand.automations.models import Automation
from deskhand.automations.rules import ITEM_KINDS
from deskhand.automations.stored import action_json
from deskhand.core.errors import Invalid, NotFound
from deskhand.customers import queries as customer_queries
from deskhand.work import queries as work_queries

router = Router(tags=["automations"])


class AutomationParams(ListParams):
    item_kind: str = Field("", max_length=20, description="ticket, task, project or timesheet")


@router.get("/automations", response=AutomationListOut)
def list_automations(request: HttpRequest, params: Query[AutomationParams]) -> dict[str, Any]:
    require_admin(request)
    return paginate(queries.automation_list(item_kind=params.item_kind, search=params.search), params)


@router.post("/automations", response={201: AutomationOut})
def create_automation(request: HttpRequest, payload: AutomationIn) -> Status[Automation]:
    return Status(201, services.create_automation(payload.to_rule(), actor=actor_of(request)))


@router.post("/automations/test", response=AutomationTestOut, summary="Test a rule against an item, changing nothing")
def test_automation(request: HttpRequest, payload: AutomationTestIn) -> dict[str, Any]:
    require_admin(request)
    rule = payload.rule.to_rule()
    if rule.item_kind in ITEM_KINDS:
        try:
            item = work_queries.get_item(payload.item)
        except NotFound as exc:
            raise Invalid("unknown_item", exc.message, field="item") from None
        result = services.test_against_item(rule, item)
    else:
        result = services.test_against_record(rule, payload.item)
    return {"triggered": result.triggered, "matched": result.matched,
            "checks": [{"text": check.text, "met": check.met} for check in result.checks],
            "actions": [action_json(action) for action in result.actions]}


@router.get("/automations/{id:automation_id}", response=AutomationOut)
def get_automation(request: HttpRequest, automation_id: int) -> Automation:
    require_admin(request)
    return queries.get_automation(automation_id)


@router.patch("/automations/{id:automation_id}", response=AutomationOut)
def update_automation(request: HttpRequest, automation_id: int, payload: AutomationPatch) -> Automation:
    row = queries.get_automation(automation_id)
    return services.update_automation(row, changes=payload.to_changes(), actor=actor_of(request))


@router.delete("/automations/{id:automation_id}", response={204: None})
def delete_automation(request: HttpRequest, automation_id: int) -> Status[None]:
    services.delete_automation(queries.get_automation(automation_id), actor=actor_of(request))
    return Status(204, None)


def _routing(organization_id: int) -> dict[str, Any]:
    row = queries.routing_of(organization_id)
    return {"organization": organization_id, "automation": row.pk if row else None,
            "enabled": row.enabled if row else False, "actions": services.routing_actions(row)}


@router.get("/organizations/{id:organization_id}/routing", response=RoutingOut, tags=["organizations"])
def get_routing(request: HttpRequest, organization_id: int) -> dict[str, Any]:
    customer_queries.get_organization(organization_id)
    return _routing(organization_id)


@router.put("/organizations/{id:organization_id}/routing", response=RoutingOut, tags=["organizations"])
def put_routing(request: HttpRequest, organization_id: int, payload: RoutingIn) -> dict[str, Any]:
    organization = customer_queries.get_organization(organization_id)
    services.set_routing(organization, actions=[action.to_input() for action in payload.actions],
                         actor=actor_of(request))
    return _routing(organization_id)



