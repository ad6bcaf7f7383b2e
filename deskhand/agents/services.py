"""Agents, teams and API tokens: the only code that creates or changes them."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext

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
MAX_PASSWORD = 128
# The link in an invitation: signed, expiring, and good for one use (its fingerprint covers the
# password, which using it sets).
WELCOME_SALT = "deskhand.agents.welcome"
WELCOME_AGE = timedelta(days=7)
MAX_TEAMS = 200


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can do this."))


def _clean_email(email: str) -> str:
    try:
        return parse_email(email).address
    except AddressError as exc:
        raise Invalid("invalid_email", str(exc), field="email") from None


def _clean_name(name: str, *, field: str = "name", required: bool = False, max_length: int = 200) -> str:
    return clean_text(name, field=field, max_length=max_length, required=required)


def _set_password(agent: Agent, password: str) -> None:
    if len(password) > MAX_PASSWORD:
        raise Invalid("weak_password", gettext("A password has at most %(value)s characters.") % {"value": MAX_PASSWORD}, field="password")
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
        raise Conflict("agent_exists", gettext("An agent with this email already exists."), field="email") from None
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
        raise Invalid("unknown_agent", gettext("No agent with id %(missing)s.") % {"missing": missing[0]}, field="members")
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
        raise Conflict("team_exists", gettext("A team with this name already exists."), field="name") from None
    team.members.set(agents)
    record(actor=actor, action="team.created", object_type="team", object_id=team.pk, object_label=team.name,
           changes={"members": [agent.pk for agent in agents]})
    return team


@transaction.atomic
def update_team(team: Team, *, name: str, members: Iterable[int], email: str = "", actor: Actor) -> Team:
    """Rename the team, set its address and its members (the whole list)."""
    _require_admin(actor)
    before = {"name": team.name, "email": team.email}
    team.name, team.email = _clean_name(name, required=True), _team_email(email)
    agents = _clean_members(members)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise Conflict("team_exists", gettext("A team with this name already exists."), field="name") from None
    after = {"name": team.name, "email": team.email}
    _set_members(team, agents, actor=actor, extra={
        key: {"old": before[key], "new": value} for key, value in after.items() if before[key] != value})
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
        raise NotFound("token_not_found", gettext("No API token with id %(token_id)s.") % {"token_id": token_id}, field="token")
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


def record_agent(agent: Agent, action: str, actor: Actor, **changes: object) -> None:
    record(actor=actor, action=f"agent.{action}", object_type="agent", object_id=agent.pk, object_label=agent.email,
           changes=dict(changes) or None)


def _other_active_admins(agent: Agent) -> bool:
    """Locks every active admin's row: two admins demoting each other at once take turns, and the
    second sees the first's change (on PostgreSQL; SQLite runs one writer at a time anyway)."""
    admins = Agent.objects.select_for_update().filter(is_admin=True, is_active=True).order_by("pk")
    return any(pk != agent.pk for pk in admins.values_list("pk", flat=True))


@transaction.atomic
def change_role(agent: Agent, *, is_admin: bool, actor: Actor) -> Agent:
    """Make an agent an admin or an agent. Nobody demotes themself, and the last active admin
    stays one (Deskhand would have nobody left to administer it)."""
    _require_admin(actor)
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    if agent.is_admin == is_admin:
        return agent
    if not is_admin:
        if agent.pk == actor.agent_id:
            raise Conflict("own_role", gettext("You cannot take away your own admin role; ask another admin."), field="role")
        if agent.is_active and not _other_active_admins(agent):
            raise Conflict("last_admin", gettext("This is the last active admin; make someone else an admin first."),
                           field="role")
    agent.is_admin = is_admin
    agent.save(update_fields=["is_admin"])
    record_agent(agent, "role_changed", actor, role={"old": "agent" if is_admin else "admin",
                                                       "new": "admin" if is_admin else "agent"})
    return agent


@transaction.atomic
def set_active(agent: Agent, *, active: bool, actor: Actor) -> Agent:
    """Deactivate an agent (they cannot sign in, their API tokens stop working, they are offered
    for no new work; their name stays on everything they did) or activate them again."""
    _require_admin(actor)
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    if agent.is_active == active:
        return agent
    if not active:
        if agent.pk == actor.agent_id:
            raise Conflict("own_account", gettext("You cannot deactivate yourself; ask another admin."), field="active")
        if agent.is_admin and not _other_active_admins(agent):
            raise Conflict("last_admin", gettext("This is the last active admin; make someone else an admin first."),
                           field="active")
    agent.is_active = active
    agent.save(update_fields=["is_active"])
    record_agent(agent, "activated" if active else "deactivated", actor)
    return agent


def _clean_teams(team_ids: Iterable[int]) -> list[Team]:
    ids = list(dict.fromkeys(team_ids))
    if len(ids) > MAX_TEAMS:
        raise Invalid("too_many_teams", gettext("An agent is in at most %(value)s teams.") % {"value": MAX_TEAMS}, field="teams")
    teams = list(Team.objects.filter(pk__in=ids))
    if len(teams) != len(ids):
        missing = sorted(set(ids) - {team.pk for team in teams})
        raise Invalid("unknown_team", gettext("No team with id %(missing)s.") % {"missing": missing[0]}, field="teams")
    return teams


def _set_members(team: Team, agents: list[Agent], *, actor: Actor, extra: dict[str, object] | None = None) -> None:
    """The one place a team's membership changes, with its history row (a team's page and an
    agent's page both change it through here)."""
    before = sorted(team.members.values_list("pk", flat=True))
    after = sorted(agent.pk for agent in agents)
    team.members.set(agents)
    changed = dict(extra or {})
    if before != after:
        changed["members"] = {"old": before, "new": after}
    if changed:
        record(actor=actor, action="team.updated", object_type="team", object_id=team.pk, object_label=team.name,
               changes=changed)


@transaction.atomic
def set_agent_teams(agent: Agent, *, teams: Iterable[int], actor: Actor) -> Agent:
    """Put an agent in exactly these teams (by id): each team that gains or loses them records it."""
    _require_admin(actor)
    wanted = {team.pk: team for team in _clean_teams(teams)}
    current = {team.pk: team for team in agent.teams.all()}
    for team_id in sorted(set(wanted) ^ set(current)):
        team = wanted.get(team_id) or current[team_id]
        members = [member for member in team.members.all() if member.pk != agent.pk]
        _set_members(team, members + [agent] if team_id in wanted else members, actor=actor)
    return agent


def _fingerprint(agent: Agent) -> str:
    # The password hash changes when the link is used, so a link works once; and it changes if
    # the agent set a password some other way meanwhile.
    state = f"{agent.pk}|{agent.email.lower()}|{agent.password}|{agent.is_active}"
    return salted_hmac(WELCOME_SALT, state, algorithm="sha256").hexdigest()[:24]


def welcome_token(agent: Agent) -> str:
    """The token of a set-password link for `agent` (their invitation)."""
    return signing.dumps({"a": agent.pk, "f": _fingerprint(agent)}, salt=WELCOME_SALT, compress=True)


def read_welcome_token(token: str, *, lock: bool = False) -> Agent:
    """The agent a welcome link is for; NotFound for a tampered link, Conflict for an expired or
    used one. `lock` holds the row until the caller's transaction ends (a link used twice at once
    works once)."""
    try:
        data = signing.loads(token[:2000], salt=WELCOME_SALT, max_age=WELCOME_AGE)
    except signing.SignatureExpired:
        raise Conflict("link_expired", gettext("This invitation has expired. Ask an admin to send a new one.")) from None
    except signing.BadSignature:
        raise NotFound("link_invalid", gettext("This link is not valid. Copy the whole link from the mail.")) from None
    pk = data.get("a") if isinstance(data, dict) else None
    rows = Agent.objects.select_for_update() if lock else Agent.objects
    agent = rows.filter(pk=pk, is_active=True).first() if isinstance(pk, int) else None
    if agent is None or not constant_time_compare(str(data.get("f", "")), _fingerprint(agent)):
        raise Conflict("link_used", gettext("This invitation has been used already. Sign in, or ask an admin for a new one."))
    return agent


@transaction.atomic
def accept_welcome(token: str, *, password: str) -> Agent:
    """An invited agent chooses their password through their link: it works once."""
    agent = read_welcome_token(token, lock=True)
    _set_password(agent, password)
    agent.save(update_fields=["password"])
    record_agent(agent, "invitation_accepted", Actor.agent(agent))
    return agent


def clean_time_zone(value: str) -> str:
    """A zoneinfo name, or "" for the help desk's own."""
    value = value.strip()
    if not value:
        return ""
    if len(value) > 64 or value not in zoneinfo.available_timezones():
        raise Invalid("invalid_time_zone", f"“{value[:64]}” is not a time zone name like Europe/Berlin.",
                      field="time_zone")
    return value


def clean_language(value: str) -> str:
    """A language the app offers (settings.LANGUAGES), or "" for the browser's."""
    value = value.strip()
    if value and value not in dict(settings.LANGUAGES):
        raise Invalid("invalid_language", gettext("Choose one of the languages offered."), field="language")
    return value


@transaction.atomic
def update_profile(agent: Agent, *, name: str, signature: str, language: str, time_zone: str, actor: Actor) -> Agent:
    """An agent's own profile: name, signature, language and time zone (an admin may edit anyone's)."""
    if actor.agent_id != agent.pk:
        _require_admin(actor)
    values = {
        "name": _clean_name(name),
        "signature": clean_text(signature, field="signature", max_length=SIGNATURE_MAX_CHARS, multiline=True),
        "language": clean_language(language),
        "time_zone": clean_time_zone(time_zone),
    }
    changed = {key: {"old": getattr(agent, key), "new": value} for key, value in values.items()
               if getattr(agent, key) != value}
    if changed:
        for key, value in values.items():
            setattr(agent, key, value)
        agent.save(update_fields=list(values))
        if "signature" in changed:  # the history says that it changed, not what it says
            changed["signature"] = {"changed": True}
        record_agent(agent, "profile_updated", actor, **changed)
    return agent


@transaction.atomic
def change_password(agent: Agent, *, current: str, new: str, actor: Actor) -> Agent:
    """An agent changes their own password, proving the current one. Their other sessions end
    (Django's session hash covers the password); the caller keeps this one."""
    if actor.agent_id != agent.pk:
        raise Forbidden("own_password", gettext("Agents change only their own password."))
    if not agent.check_password(current[:MAX_PASSWORD]):
        raise Invalid("wrong_password", gettext("The current password is not right."), field="current_password")
    if current == new:
        raise Invalid("same_password", gettext("Choose a password different from the current one."), field="new_password")
    try:
        _set_password(agent, new)
    except Invalid as exc:
        raise Invalid(exc.code, exc.message, field="new_password") from None
    agent.save(update_fields=["password"])
    record_agent(agent, "password_changed", actor)
    return agent


@transaction.atomic
def update_agent(agent: Agent, *, is_admin: bool, teams: Iterable[int], actor: Actor) -> Agent:
    """Administration → Agents saves a row: the role and the teams, all or nothing."""
    return change_agent(agent, is_admin=is_admin, teams=teams, actor=actor)


@transaction.atomic
def change_agent(agent: Agent, *, is_admin: bool | None = None, is_active: bool | None = None,
                 teams: Iterable[int] | None = None, actor: Actor) -> Agent:
    """What an admin changes on an agent at once (None: left as it is): the role, active or not,
    the teams; all or nothing, each under its own rule (`change_role`, `set_active`,
    `set_agent_teams`)."""
    _require_admin(actor)
    if is_admin is not None:
        agent = change_role(agent, is_admin=is_admin, actor=actor)
    if is_active is not None:
        agent = set_active(agent, active=is_active, actor=actor)
    if teams is not None:
        agent = set_agent_teams(agent, teams=teams, actor=actor)
    return agent
