"""SLA policies."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from deskhand.api.auth import actor_of
from deskhand.api.pagination import ListParams, paginate
from deskhand.api.schemas import SlaPolicyIn, SlaPolicyListOut, SlaPolicyOut, SlaPolicyPatch
from deskhand.core.errors import NotFound
from deskhand.sla import services
from deskhand.sla.models import SlaPolicy
from deskhand.sla.queries import sla_report

router = Router(tags=["sla"])


def _policy(policy_id: int) -> SlaPolicy:
    policy = SlaPolicy.objects.prefetch_related("targets").filter(pk=policy_id).first()
    if policy is None:
        raise NotFound("sla_policy_not_found", f"No SLA policy with id {policy_id}.")
    return policy


@router.get("/sla-policies", response=SlaPolicyListOut)
def list_policies(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    policies = SlaPolicy.objects.prefetch_related("targets")
    if params.search:
        policies = policies.filter(name__icontains=params.search)
    return paginate(policies, params)


@router.post("/sla-policies", response={201: SlaPolicyOut})
def create_policy(request: HttpRequest, payload: SlaPolicyIn) -> Status[SlaPolicy]:
    policy = services.create_policy(payload.to_input(), actor=actor_of(request))
    return Status(201, _policy(policy.pk))


@router.get("/sla-policies/{id:policy_id}", response=SlaPolicyOut)
def get_policy(request: HttpRequest, policy_id: int) -> SlaPolicy:
    return _policy(policy_id)


@router.patch("/sla-policies/{id:policy_id}", response=SlaPolicyOut)
def update_policy(request: HttpRequest, policy_id: int, payload: SlaPolicyPatch) -> SlaPolicy:
    services.update_policy(_policy(policy_id), changes=payload.to_changes(), actor=actor_of(request))
    return _policy(policy_id)


@router.delete("/sla-policies/{id:policy_id}", response={204: None})
def delete_policy(request: HttpRequest, policy_id: int) -> Status[None]:
    services.delete_policy(_policy(policy_id), actor=actor_of(request))
    return Status(204, None)


@router.get("/sla-report", summary="SLA breaches and attainment per organization, agent or month")
def sla_report_api(request: HttpRequest, by: str = "organization") -> dict[str, Any]:
    rows = sla_report(by[:20])
    return {"by": by, "items": rows, "count": len(rows)}
