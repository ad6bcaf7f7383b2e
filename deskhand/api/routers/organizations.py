from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from deskhand.api.auth import actor_of
from deskhand.api.lookups import event_list, organization_or_none
from deskhand.api.pagination import ListParams, paginate
from deskhand.api.schemas import (
    DomainIn,
    DomainOut,
    EventListOut,
    MergeIn,
    OrganizationIn,
    OrganizationListOut,
    OrganizationOut,
    OrganizationPatch,
)
from deskhand.customers import queries, services
from deskhand.customers.models import Organization, Source

router = Router(tags=["organizations"])


@router.get("/organizations", response=OrganizationListOut)
def list_organizations(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    return paginate(queries.organization_list(search=params.search), params)


@router.post("/organizations", response={201: OrganizationOut})
def create_organization(request: HttpRequest, payload: OrganizationIn) -> Status[Organization]:
    organization = services.create_organization(
        payload.name, domains=payload.domains, notes=payload.notes, custom_fields=payload.custom_fields,
        apply_to_existing=payload.apply_to_existing, source=Source.API, actor=actor_of(request),
    )
    return Status(201, queries.get_organization(organization.pk))


@router.get("/organizations/{id:organization_id}", response=OrganizationOut)
def get_organization(request: HttpRequest, organization_id: int) -> Organization:
    return queries.get_organization(organization_id)


@router.patch("/organizations/{id:organization_id}", response=OrganizationOut)
def update_organization(request: HttpRequest, organization_id: int, payload: OrganizationPatch) -> Organization:
    organization = queries.get_organization(organization_id)
    services.update_organization(organization, changes=payload.to_changes(), actor=actor_of(request))
    return queries.get_organization(organization_id)


@router.delete("/organizations/{id:organization_id}", response={204: None})
def delete_organization(request: HttpRequest, organization_id: int) -> Status[None]:
    services.delete_organization(queries.get_organization(organization_id), actor=actor_of(request))
    return Status(204, None)


@router.post("/organizations/{id:organization_id}/domains", response={201: DomainOut})
def add_domain(request: HttpRequest, organization_id: int, payload: DomainIn) -> Status[dict[str, Any]]:
    organization = queries.get_organization(organization_id)
    domain, moved = services.add_domain(organization, payload.domain, apply_to_existing=payload.apply_to_existing,
                                        actor=actor_of(request))
    return Status(201, {"domain": domain, "organization": organization.pk, "moved_customers": moved})


@router.delete("/organizations/{id:organization_id}/domains/{domain}", response={204: None})
def remove_domain(request: HttpRequest, organization_id: int, domain: str) -> Status[None]:
    services.remove_domain(queries.get_organization(organization_id), domain, actor=actor_of(request))
    return Status(204, None)


@router.post("/organizations/{id:organization_id}/merge", response=OrganizationOut)
def merge_organization(request: HttpRequest, organization_id: int, payload: MergeIn) -> Organization:
    source = queries.get_organization(organization_id)
    into = organization_or_none(payload.into, field="into")
    assert into is not None
    services.merge_organizations(source, into=into, actor=actor_of(request))
    return queries.get_organization(into.pk)


@router.get("/organizations/{id:organization_id}/events", response=EventListOut)
def organization_events(request: HttpRequest, organization_id: int) -> dict[str, Any]:
    queries.get_organization(organization_id)
    return event_list("organization", organization_id)
