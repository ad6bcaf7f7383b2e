from __future__ import annotations

import io
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from deskhand.accounts.services import invite
from deskhand.api.auth import actor_of
from deskhand.api.lookups import event_list, organization_or_none
from deskhand.api.pagination import ListParams, paginate
from deskhand.api.schemas import (
    CustomerIn,
    CustomerListOut,
    CustomerOut,
    CustomerPatch,
    EventListOut,
    ImportOut,
    InviteOut,
    MergeIn,
)
from deskhand.core.errors import Invalid, NotFound
from deskhand.core.inputs import UNSET
from deskhand.core.numbers import id_or_none
from deskhand.customers import queries, services
from deskhand.customers.models import Customer, Source
from deskhand.imports.customers import export_customers, import_customers

router = Router(tags=["customers"])


class CustomerFilters(ListParams):
    organization: str | None = None


def _organization_filter(value: str | None) -> str | int | None:
    if value is None or value == "":
        return None
    if value.lower() in {"none", "null"}:
        return queries.NO_ORGANIZATION
    if (number := id_or_none(value)) is None:
        raise Invalid("invalid_filter", "organization is an id or none.", field="organization")
    return number


@router.get("/customers", response=CustomerListOut)
def list_customers(request: HttpRequest, filters: Query[CustomerFilters]) -> dict[str, Any]:
    customers = queries.customer_list(search=filters.search, organization=_organization_filter(filters.organization))
    return paginate(customers, filters)


@router.post("/customers", response={201: CustomerOut})
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status[Customer]:
    data = payload.model_dump(exclude_unset=True)
    organization: Any = services.AUTO
    if "organization" in data:
        organization = organization_or_none(data["organization"])
    customer = services.create_customer(
        payload.email, name=payload.name, phone=payload.phone, language=payload.language, notes=payload.notes,
        customer_type=payload.customer_type, organization=organization, custom_fields=payload.custom_fields,
        source=Source.API, actor=actor_of(request),
    )
    return Status(201, customer)


@router.get("/customers/export")
def export(request: HttpRequest) -> HttpResponse:
    buffer = io.StringIO()
    export_customers(buffer)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="customers.csv"'
    return response


@router.post("/customers/import", response=ImportOut)
def import_csv(request: HttpRequest, file: File[UploadedFile], dry_run: Form[bool] = False,
               update_existing: Form[bool] = True) -> dict[str, Any]:
    report = import_customers(file.read(), dry_run=dry_run, update_existing=update_existing, actor=actor_of(request))
    return report.as_dict()


@router.get("/customers/{id:customer_id}", response=CustomerOut)
def get_customer(request: HttpRequest, customer_id: int) -> Customer:
    return queries.get_customer(customer_id)


@router.patch("/customers/{id:customer_id}", response=CustomerOut)
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> Customer:
    customer = queries.get_customer(customer_id)
    organization = organization_or_none(payload.organization) if "organization" in payload.model_fields_set else UNSET
    services.update_customer(customer, changes=payload.to_changes(organization=organization), actor=actor_of(request))
    return queries.get_customer(customer_id)


@router.delete("/customers/{id:customer_id}", response={204: None})
def delete_customer(request: HttpRequest, customer_id: int) -> Status[None]:
    services.delete_customer(queries.get_customer(customer_id), actor=actor_of(request))
    return Status(204, None)


@router.post("/customers/{id:customer_id}/merge", response=CustomerOut)
def merge_customer(request: HttpRequest, customer_id: int, payload: MergeIn) -> Customer:
    source = queries.get_customer(customer_id)
    into = _customer_or_invalid(payload.into)
    services.merge_customers(source, into=into, actor=actor_of(request))
    return queries.get_customer(into.pk)


@router.post("/customers/{id:customer_id}/invite", response={202: InviteOut},
             summary="Invite the customer to the portal: a mail with a link to set a password")
def invite_customer(request: HttpRequest, customer_id: int) -> Status[dict[str, Any]]:
    customer = queries.get_customer(customer_id)
    account = invite(customer, actor=actor_of(request))
    return Status(202, {"customer": customer.pk, "email": customer.email, "verified": account.verified_at is not None})


@router.get("/customers/{id:customer_id}/events", response=EventListOut)
def customer_events(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    queries.get_customer(customer_id)
    return event_list("customer", customer_id)


def _customer_or_invalid(customer_id: int) -> Any:
    try:
        return queries.get_customer(customer_id)
    except NotFound as exc:
        raise Invalid("unknown_customer", exc.message, field="into") from None
