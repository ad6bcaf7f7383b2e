"""Administration → Agents: who works in Deskhand, invited by mail, their role and teams, and
deactivating (and activating again) without losing what they did."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from deskhand.agents.models import Agent, Team
from deskhand.agents.queries import agent_admin_list, get_agent
from deskhand.agents.services import set_active, update_agent
from deskhand.core.errors import DomainError, NotFound
from deskhand.core.numbers import id_or_none
from deskhand.notifications.invitations import Invitation, invite_agent, resend_invitation
from deskhand.web.access import actor, admin_required
from deskhand.web.http import AgentRequest

MAX_TEAMS = 200


def _teams(request: AgentRequest) -> list[int]:
    return [number for value in request.POST.getlist("teams")[:MAX_TEAMS] if (number := id_or_none(value)) is not None]


def _page(request: AgentRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    agents = list(agent_admin_list())
    rows = [{"agent": agent, "teams": {team.pk for team in agent.teams.all()},
             "invited": not agent.has_usable_password()} for agent in agents]
    return render(request, "web/admin/agents.html", {
        "rows": rows, "teams": list(Team.objects.order_by("name")), **extra}, status=status)


@require_GET
@admin_required
def agents(request: AgentRequest) -> HttpResponse:
    return _page(request)


@require_POST
@admin_required
def invite(request: AgentRequest) -> HttpResponse:
    invitation = Invitation(email=request.POST.get("email", "")[:1000], name=request.POST.get("name", "")[:1000],
                            is_admin=request.POST.get("role") == "admin", teams=_teams(request))
    try:
        agent = invite_agent(invitation, actor=actor(request))
    except DomainError as exc:
        return _page(request, status=exc.status, invite_error={"field": exc.field, "message": exc.message},
                     typed=request.POST, typed_teams=set(invitation.teams))
    messages.success(request, gettext("Invitation sent to %(email)s.") % {"email": agent.email})
    return redirect("web:admin-agents")


@require_POST
@admin_required
def change(request: AgentRequest, agent_id: int) -> HttpResponse:
    try:
        agent: Agent = get_agent(agent_id)
    except NotFound:
        raise Http404(gettext("There is no such agent.")) from None
    action = request.POST.get("action", "save")
    try:
        if action == "deactivate":
            set_active(agent, active=False, actor=actor(request))
            messages.success(request, gettext("%(name)s is deactivated: they cannot sign in, and their "
                                              "API tokens do not work.") % {"name": agent.display_name})
        elif action == "activate":
            set_active(agent, active=True, actor=actor(request))
            messages.success(request, gettext("%(name)s is active again.") % {"name": agent.display_name})
        elif action == "resend":
            resend_invitation(agent, actor=actor(request))
            messages.success(request, gettext("A new invitation went to %(email)s.") % {"email": agent.email})
        else:
            update_agent(agent, is_admin=request.POST.get("role") == "admin", teams=_teams(request),
                         actor=actor(request))
            messages.success(request, gettext("%(name)s saved.") % {"name": agent.display_name})
    except DomainError as exc:
        return _page(request, status=exc.status, row_error={"id": agent.pk, "message": exc.message})
    return redirect("web:admin-agents")
