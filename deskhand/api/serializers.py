"""Model → JSON for API v1, and the lookups that turn ids in a body into 422s."""

from __future__ import annotations

from typing import Any

from deskhand.agents.models import Agent, Team
from deskhand.audit.queries import history
from deskhand.core.errors import Invalid, NotFound
from deskhand.customers import queries
from deskhand.customers.models import Customer, CustomerType, Organization
from deskhand.fields.models import CustomField


def customer_out(customer: Customer, field_keys: set[str]) -> dict[str, Any]:
    organization = customer.organization
    return {
        "id": customer.pk,
        "email": customer.email,
        "name": customer.name,
        "phone": customer.phone,
        "language": customer.language,
        "notes": customer.notes,
        "organization": organization.pk if organization else None,
        "organization_name": organization.name if organization else None,
        "customer_type": customer.customer_type.name if customer.customer_type else None,
        "placed_manually": customer.placed_manually,
        "custom_fields": {k: v for k, v in customer.custom_fields.items() if k in field_keys},
        "source": customer.source,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def organization_out(organization: Organization, field_keys: set[str]) -> dict[str, Any]:
    return {
        "id": organization.pk,
        "name": organization.name,
        "domains": [row.domain for row in organization.domains.all()],
        "customer_count": getattr(organization, "customer_count", 0),
        "notes": organization.notes,
        "source": organization.source,
        "custom_fields": {k: v for k, v in organization.custom_fields.items() if k in field_keys},
        "created_at": organization.created_at,
        "updated_at": organization.updated_at,
    }


def customer_type_out(customer_type: CustomerType) -> dict[str, Any]:
    return {"id": customer_type.pk, "name": customer_type.name, "color": customer_type.color,
            "visible": customer_type.visible, "position": customer_type.position}


def custom_field_out(field: CustomField) -> dict[str, Any]:
    return {"id": field.pk, "applies_to": field.applies_to, "key": field.key, "label": field.label,
            "type": field.type, "required": field.required, "choices": field.choices,
            "help_text": field.help_text, "position": field.position}


def agent_out(agent: Agent) -> dict[str, Any]:
    return {"id": agent.pk, "email": agent.email, "name": agent.name, "is_admin": agent.is_admin,
            "is_active": agent.is_active, "teams": [team.pk for team in agent.teams.all()],
            "created_at": agent.created_at}


def team_out(team: Team) -> dict[str, Any]:
    return {"id": team.pk, "name": team.name, "members": [agent.pk for agent in team.members.all()]}


def event_list(object_type: str, object_id: int) -> dict[str, Any]:
    events = [
        {"id": event.pk, "actor": event.actor_label, "actor_kind": event.actor_kind, "action": event.action,
         "detail": event.changes, "created_at": event.created_at}
        for event in history(object_type, object_id)
    ]
    return {"items": events, "count": len(events)}


def organization_or_none(organization_id: int | None, *, field: str = "organization") -> Organization | None:
    """The organization a body names by id (None for "No organization"); unknown ids are a 422."""
    if organization_id is None:
        return None
    try:
        return queries.get_organization(organization_id)
    except NotFound as exc:
        raise Invalid("unknown_organization", exc.message, field=field) from None
