"""Agents, teams and API tokens: the only code that creates or changes them."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from deskhand.agents.models import Agent, ApiToken, Team
from deskhand.audit.services import record
from deskhand.core.actors import Actor
from deskhand.core.emailaddr import AddressError, parse_email
from deskhand.core.errors import Conflict, Forbidden, Invalid, NotFound
from deskhand.core.text import clean_text

TOKEN_PREFIX = "dh_"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# The signature an agent keeps on their profile (plain text / Markdown, appended by the reply box).
SIGNATURE_MAX_CHARS = 2000


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("admin_required", "Only an administrator can do this.")


def _clean_email(email: str) -> str:
    try:
        return parse_email(email).address
    except AddressError as exc:
        raise Invalid("invalid_email", str(exc), field="email") from None


def _clean_name(name: str, *, field: str = "name", required: bool = False, max_length: int = 200) -> str:
    return clean_text(name, field=field, max_length=max_length, required=required)


def _set_password(agent: Agent, password: str) -> None:
    try:
        validate_password(password, agent)
    except ValidationError as exc:
        raise Invalid("weak_password", " ".join(exc.messages), field="password") from None
    agent.set_password(password)


@transaction.atomic
def create_agent(
    email: str, *, name: str = "", password: str | None = None, is_admin: bool = False, actor: Actor
) -> Agent:
    """A new agent; the email is unique regardless of case."""
    _require_admin(actor)
    agent = Agent(email=_clean_email(email), name=_clean_name(name), is_admin=bool(is_admin))
    if password:
        _set_password(agent, password)
    else:
        agent.set_unusable_password()
    try:
        with transaction.atomic():
            agent.save()
    except IntegrityError:
        raise Conflict("agent_exists", "An agent with this email already exists.", field="email") from None
    record(actor=actor, action="agent.created", object_type="agent", object_id=agent.pk,
           object_label=agent.email, changes={"email": agent.email, "is_admin": agent.is_admin})
    return agent


@transaction.atomic
def ensure_admin(email: str, *, password: str, actor: Actor) -> Agent:
    """The admin named by the environment exists, is an active admin, and signs in with `password`."""
    address = _clean_email(email)
    agent = Agent.objects.filter(email__iexact=address).first()
    if agent is None:
        return create_agent(address, name="Administrator", password=password, is_admin=True, actor=actor)
    changed = not (agent.is_admin and agent.is_active) or not agent.check_password(password)
    if changed:
        agent.is_admin = True
        agent.is_active = True
        _set_password(agent, password)
        agent.save()
        record(actor=actor, action="agent.admin_ensured", object_type="agent", object_id=agent.pk,
               object_label=agent.email)
    return agent


def _clean_members(member_ids: Iterable[int]) -> list[Agent]:
    ids = list(dict.fromkeys(member_ids))
    agents = list(Agent.objects.filter(pk__in=ids))
    if len(agents) != len(ids):
        missing = sorted(set(ids) - {agent.pk for agent in agents})
        raise Invalid("unknown_agent", f"No agent with id {missing[0]}.", field="members")
    return agents


def _team_email(email: str) -> str:
    return _clean_email(email) if email.strip() else ""


@transaction.atomic
def create_team(name: str, *, members: Iterable[int] = (), email: str = "", actor: Actor) -> Team:
    _require_admin(actor)
    team = Team(name=_clean_name(name, required=True), email=_team_email(email))
    agents = _clean_members(members)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise Conflict("team_exists", "A team with this name already exists.", field="name") from None
    team.members.set(agents)
    record(actor=actor, action="team.created", object_type="team", object_id=team.pk, object_label=team.name,
           changes={"members": [agent.pk for agent in agents]})
    return team


@transaction.atomic
def update_team(team: Team, *, name: str, members: Iterable[int], email: str = "", actor: Actor) -> Team:
    """Rename the team, set its address and its members (the whole list)."""
    _require_admin(actor)
    before = {"name": team.name, "email": team.email, "members": sorted(team.members.values_list("pk", flat=True))}
    team.name, team.email = _clean_name(name, required=True), _team_email(email)
    agents = _clean_members(members)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise Conflict("team_exists", "A team with this name already exists.", field="name") from None
    team.members.set(agents)
    after = {"name": team.name, "email": team.email, "members": sorted(agent.pk for agent in agents)}
    changed = {key: {"old": before[key], "new": value} for key, value in after.items() if before[key] != value}
    if changed:
        record(actor=actor, action="team.updated", object_type="team", object_id=team.pk, object_label=team.name,
               changes=changed)
    return team


@transaction.atomic
def delete_team(team: Team, *, actor: Actor) -> None:
    """The team goes; what it was assigned stays with its agents, unassigned from the team."""
    _require_admin(actor)
    record(actor=actor, action="team.deleted", object_type="team", object_id=team.pk, object_label=team.name)
    team.delete()


def _hash(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


@transaction.atomic
def issue_token(agent: Agent, *, name: str = "", actor: Actor) -> tuple[ApiToken, str]:
    """A new API token for `agent`; the plain token is returned once and never stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        agent=agent, name=_clean_name(name, max_length=100), prefix=plain[:10], token_hash=_hash(plain)
    )
    record(actor=actor, action="token.created", object_type="agent", object_id=agent.pk, object_label=agent.email,
           changes={"token": token.pk, "prefix": token.prefix, "name": token.name})
    return token, plain


@transaction.atomic
def revoke_token(token_id: int, *, actor: Actor) -> ApiToken:
    token = ApiToken.objects.select_related("agent").filter(pk=token_id).first()
    if token is None:
        raise NotFound("token_not_found", f"No API token with id {token_id}.", field="token")
    if actor.agent_id != token.agent_id:
        _require_admin(actor)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor=actor, action="token.revoked", object_type="agent", object_id=token.agent_id,
               object_label=token.agent.email, changes={"token": token.pk, "prefix": token.prefix})
    return token


def authenticate_token(plain: str) -> ApiToken | None:
    """The live token for `plain`, or None; an inactive agent's tokens do not work."""
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token = (
        ApiToken.objects.select_related("agent")
        .filter(token_hash=_hash(plain), revoked_at__isnull=True, agent__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
