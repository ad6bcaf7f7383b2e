"""Administration → Teams: teams, their members and address; assignable wherever an agent is."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from deskhand.agents.models import Agent, Team
from deskhand.agents.queries import team_list
from deskhand.agents.services import create_team, delete_team, update_team
from deskhand.core.errors import DomainError
from deskhand.core.numbers import id_or_none
from deskhand.web.access import actor, admin_required
from deskhand.web.http import AgentRequest


def _members(request: AgentRequest) -> list[int]:
    return [number for value in request.POST.getlist("members")[:1000] if (number := id_or_none(value)) is not None]


def _page(request: AgentRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    teams = list(team_list().prefetch_related("members"))
    agents = list(Agent.objects.filter(is_active=True).order_by("name", "email"))
    rows = [{"team": team, "members": {agent.pk for agent in team.members.all()}} for team in teams]
    return render(request, "web/admin/teams.html", {"rows": rows, "agents": agents, **extra}, status=status)


@require_GET
@admin_required
def teams(request: AgentRequest) -> HttpResponse:
    return _page(request)


@require_POST
@admin_required
def add_team(request: AgentRequest) -> HttpResponse:
    try:
        team = create_team(request.POST.get("name", ""), email=request.POST.get("email", ""),
                           members=_members(request), actor=actor(request))
    except DomainError as exc:
        return _page(request, status=exc.status, new_error=exc.message, typed=request.POST)
    messages.success(request, gettext("Team %(name)s added.") % {"name": team.name})
    return redirect("web:admin-teams")


def _team(team_id: int) -> Team:
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise Http404(gettext("There is no such team."))
    return team


@require_POST
@admin_required
def change_team(request: AgentRequest, team_id: int) -> HttpResponse:
    team = _team(team_id)
    try:
        if request.POST.get("action") == "delete":
            delete_team(team, actor=actor(request))
            messages.success(request, gettext("Team %(name)s removed.") % {"name": team.name})
        else:
            update_team(team, name=request.POST.get("name", ""), email=request.POST.get("email", ""),
                        members=_members(request), actor=actor(request))
            messages.success(request, gettext("Team %(name)s saved.") % {"name": team.name})
    except DomainError as exc:
        return _page(request, status=exc.status, team_error={"id": team_id, "message": exc.message})
    return redirect("web:admin-teams")
