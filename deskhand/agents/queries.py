from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet, Value
from django.db.models.functions import Lower, Replace
from django.utils.translation import gettext

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
        raise NotFound("agent_not_found", gettext("No agent with email %(strip)s.") % {"strip": email.strip()}, field="email")
    return agent


def token_list(*, agent: Agent | None = None) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("agent").order_by("id")
    return tokens.filter(agent=agent) if agent else tokens


def agent_admin_list() -> QuerySet[Agent]:
    """Administration → Agents: everyone, the active first, with their teams' names."""
    return Agent.objects.prefetch_related(Prefetch("teams", queryset=Team.objects.only("id", "name").order_by(
        "name"))).order_by("-is_active", "name", "email")


def get_agent(agent_id: int) -> Agent:
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None:
        raise NotFound("agent_not_found", gettext("No agent with id %(agent_id)s.") % {"agent_id": agent_id}, field="agent")
    return agent


def get_token_for_agent(agent: Agent, token_id: int) -> ApiToken:
    """One of `agent`'s own API tokens (nobody else's, admin or not: the profile shows one's own)."""
    token = ApiToken.objects.filter(pk=token_id, agent=agent).first()
    if token is None:
        raise NotFound("token_not_found", gettext("There is no such API token of yours."), field="token")
    return token


# The @ picker of the note box offers this many agents at a time.
MENTION_CHOICES = 8


def mention_candidates(typed: str, *, exclude: int | None = None, limit: int = MENTION_CHOICES) -> list[Agent]:
    """Active agents (but `exclude`, the one typing) someone typing `@typed` may mean: their
    address, their name or a word of it, or their name without spaces (the handles of
    `notifications.mentions`) starts with it."""
    term = search_term(typed, max_length=64).lstrip("@")
    agents = Agent.objects.filter(is_active=True)
    if exclude is not None:
        agents = agents.exclude(pk=exclude)
    if term:
        compact = Replace(Lower("name"), Value(" "), Value(""))
        agents = agents.annotate(compact=compact).filter(
            Q(email__istartswith=term) | Q(name__istartswith=term) | Q(name__icontains=f" {term}")
            | Q(compact__startswith=term.lower()))
    return list(agents.only("id", "email", "name").order_by("name", "email")[:limit])
