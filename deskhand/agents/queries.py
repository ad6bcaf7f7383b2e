from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from deskhand.agents.models import Agent, ApiToken, Team
from deskhand.core.errors import NotFound
from deskhand.core.text import search_term


def agent_list(*, search: str = "") -> QuerySet[Agent]:
    agents = Agent.objects.prefetch_related(Prefetch("teams", queryset=Team.objects.only("id")))
    search = search_term(search)
    if search:
        agents = agents.filter(Q(email__icontains=search) | Q(name__icontains=search))
    return agents.order_by("email")


def team_list(*, search: str = "") -> QuerySet[Team]:
    teams = Team.objects.prefetch_related(Prefetch("members", queryset=Agent.objects.only("id")))
    search = search_term(search)
    if search:
        teams = teams.filter(name__icontains=search)
    return teams.order_by("name")


def get_agent_by_email(email: str) -> Agent:
    agent = Agent.objects.filter(email__iexact=search_term(email, max_length=254)).first()
    if agent is None:
        raise NotFound("agent_not_found", f"No agent with email {email.strip()}.", field="email")
    return agent


def token_list(*, agent: Agent | None = None) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("agent").order_by("id")
    return tokens.filter(agent=agent) if agent else tokens
