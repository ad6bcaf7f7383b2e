"""Settings, customer types, custom fields, agents and teams."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Body, Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictStr

from deskhand.agents import queries as agent_queries
from deskhand.agents import services as agent_services
from deskhand.agents.models import Agent, Team
from deskhand.api.auth import actor_of, require_admin
from deskhand.api.pagination import ListParams, paginate
from deskhand.api.schemas import (
    AgentIn,
    AgentOut,
    CustomerTypeIn,
    CustomerTypeOut,
    CustomerTypePatch,
    CustomFieldIn,
    CustomFieldOut,
    CustomFieldPatch,
    Id,
    TeamIn,
    TeamOut,
)
from deskhand.config.queries import get_settings
from deskhand.config.services import update_settings
from deskhand.core.errors import NotFound
from deskhand.customers import queries as customer_queries
from deskhand.customers import services as customer_services
from deskhand.customers.models import CustomerType
from deskhand.fields import queries as field_queries
from deskhand.fields import services as field_services
from deskhand.fields.models import CustomField
from deskhand.notifications import invitations

router = Router()




@router.get("/settings", tags=["settings"])
def read_settings(request: HttpRequest) -> dict[str, Any]:
    require_admin(request)
    return get_settings()


@router.patch("/settings", tags=["settings"])
def change_settings(request: HttpRequest, payload: Body[dict[str, Any]]) -> dict[str, Any]:
    return update_settings(payload, actor=actor_of(request))


class CustomerTypeListOut(Schema):
    items: list[CustomerTypeOut]
    count: int


@router.get("/customer-types", response=CustomerTypeListOut, tags=["customer types"])
def list_customer_types(request: HttpRequest) -> dict[str, Any]:
    types = list(customer_queries.customer_type_list())
    return {"items": types, "count": len(types)}


@router.post("/customer-types", response={201: CustomerTypeOut}, tags=["customer types"])
def create_customer_type(request: HttpRequest, payload: CustomerTypeIn) -> Status[CustomerType]:
    row = customer_services.create_customer_type(payload.name, color=payload.color, visible=payload.visible,
                                                 actor=actor_of(request))
    return Status(201, row)


@router.patch("/customer-types/{id:type_id}", response=CustomerTypeOut, tags=["customer types"])
def update_customer_type(request: HttpRequest, type_id: int, payload: CustomerTypePatch) -> CustomerType:
    row = customer_queries.get_customer_type(type_id)
    return customer_services.update_customer_type(row, changes=payload.to_changes(), actor=actor_of(request))


@router.delete("/customer-types/{id:type_id}", response={204: None}, tags=["customer types"])
def delete_customer_type(request: HttpRequest, type_id: int) -> Status[None]:
    customer_services.delete_customer_type(customer_queries.get_customer_type(type_id), actor=actor_of(request))
    return Status(204, None)


class CustomFieldListOut(Schema):
    items: list[CustomFieldOut]
    count: int


class CustomFieldFilters(Schema):
    applies_to: str | None = None


@router.get("/custom-fields", response=CustomFieldListOut, tags=["custom fields"])
def list_custom_fields(request: HttpRequest, filters: Query[CustomFieldFilters]) -> dict[str, Any]:
    fields = list(field_queries.custom_field_list(applies_to=filters.applies_to))
    return {"items": fields, "count": len(fields)}


@router.post("/custom-fields", response={201: CustomFieldOut}, tags=["custom fields"])
def create_custom_field(request: HttpRequest, payload: CustomFieldIn) -> Status[CustomField]:
    field = field_services.create_custom_field(
        applies_to=payload.applies_to, label=payload.label, type=payload.type, key=payload.key,
        required=payload.required, choices=payload.choices, help_text=payload.help_text, actor=actor_of(request),
    )
    return Status(201, field)


@router.patch("/custom-fields/{id:field_id}", response=CustomFieldOut, tags=["custom fields"])
def update_custom_field(request: HttpRequest, field_id: int, payload: CustomFieldPatch) -> CustomField:
    field = field_queries.get_custom_field(field_id)
    return field_services.update_custom_field(field, changes=payload.to_changes(), actor=actor_of(request))


@router.delete("/custom-fields/{id:field_id}", response={204: None}, tags=["custom fields"])
def delete_custom_field(request: HttpRequest, field_id: int) -> Status[None]:
    field_services.delete_custom_field(field_queries.get_custom_field(field_id), actor=actor_of(request))
    return Status(204, None)


class AgentListOut(Schema):
    items: list[AgentOut]
    count: int


class TeamListOut(Schema):
    items: list[TeamOut]
    count: int


@router.get("/agents", response=AgentListOut, tags=["agents"])
def list_agents(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    # Agents list their colleagues to assign work; who is an admin is for admins to see (AgentOut).
    return paginate(agent_queries.agent_list(search=params.search), params)


@router.post("/agents", response={201: AgentOut}, tags=["agents"])
def create_agent(request: HttpRequest, payload: AgentIn) -> Status[Agent]:
    agent = agent_services.create_agent(payload.email, name=payload.name, password=payload.password,
                                        is_admin=payload.is_admin, actor=actor_of(request))
    return Status(201, agent)


class AgentInviteIn(Schema):
    email: StrictStr = Field(max_length=2000)
    name: StrictStr = Field("", max_length=2000)
    is_admin: StrictBool = False
    teams: list[Id] = Field([], max_length=agent_services.MAX_TEAMS)


class AgentPatch(Schema):
    """What an admin changes on an agent; a field left out (or null) stays as it is."""

    is_admin: StrictBool | None = None
    is_active: StrictBool | None = Field(None, description="false deactivates: no sign-in, no API token; "
                                                            "their name stays on everything they did.")
    teams: list[Id] | None = Field(None, max_length=agent_services.MAX_TEAMS,
                                   description="The teams the agent is in, all of them (replaces the list).")


@router.post("/agents/invite", response={202: AgentOut}, tags=["agents"],
             summary="Invite an agent: a new agent and a mail with a link to set their password")
def invite_agent(request: HttpRequest, payload: AgentInviteIn) -> Status[Agent]:
    agent = invitations.invite_agent(
        invitations.Invitation(email=payload.email, name=payload.name, is_admin=payload.is_admin,
                               teams=payload.teams), actor=require_admin(request))
    return Status(202, agent)


@router.post("/agents/{id:agent_id}/invite", response={202: AgentOut}, tags=["agents"],
             summary="Send an invited agent a new invitation (until they have chosen a password)")
def resend_invitation(request: HttpRequest, agent_id: int) -> Status[Agent]:
    actor = require_admin(request)
    return Status(202, invitations.resend_invitation(agent_queries.get_agent(agent_id), actor=actor))


@router.get("/agents/{id:agent_id}", response=AgentOut, tags=["agents"])
def read_agent(request: HttpRequest, agent_id: int) -> Agent:
    return agent_queries.get_agent(agent_id)


@router.patch("/agents/{id:agent_id}", response=AgentOut, tags=["agents"],
              summary="Change an agent's role, deactivate or activate them, set their teams")
def change_agent(request: HttpRequest, agent_id: int, payload: AgentPatch) -> Agent:
    actor = require_admin(request)
    return agent_services.change_agent(agent_queries.get_agent(agent_id), is_admin=payload.is_admin,
                                       is_active=payload.is_active, teams=payload.teams, actor=actor)


@router.get("/teams", response=TeamListOut, tags=["agents"])
def list_teams(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    return paginate(agent_queries.team_list(search=params.search), params)


@router.post("/teams", response={201: TeamOut}, tags=["agents"])
def create_team(request: HttpRequest, payload: TeamIn) -> Status[Team]:
    team = agent_services.create_team(payload.name, members=payload.members, email=payload.email,
                                      actor=actor_of(request))
    return Status(201, team)


def _team(team_id: int) -> Team:
    team = agent_queries.team_list().filter(pk=team_id).first()
    if team is None:
        raise NotFound("team_not_found", f"No team with id {team_id}.")
    return team


@router.put("/teams/{id:team_id}", response=TeamOut, tags=["agents"], summary="Rename a team, set its members")
def update_team(request: HttpRequest, team_id: int, payload: TeamIn) -> Team:
    return agent_services.update_team(_team(team_id), name=payload.name, members=payload.members,
                                      email=payload.email, actor=actor_of(request))


@router.delete("/teams/{id:team_id}", response={204: None}, tags=["agents"])
def delete_team(request: HttpRequest, team_id: int) -> Status[None]:
    agent_services.delete_team(_team(team_id), actor=actor_of(request))
    return Status(204, None)
