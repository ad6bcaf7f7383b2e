"""Inviting agents: the new agent and an invitation mail with their set-password link, in one
transaction. Here rather than in `agents`: mail sits above agents in the layers, and this is a
mail to an agent like the notifications."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from deskhand.agents.models import Agent
from deskhand.agents.services import WELCOME_AGE, create_agent, record_agent, set_agent_teams, welcome_token
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Forbidden
from deskhand.mail.models import OutboundMessage
from deskhand.mail.outbound import NewOutbound, queue_outbound

MAIL_KIND = "agent_invite"
# Invitations to one address in an hour (a resend button pressed in a loop floods nobody).
INVITES_PER_HOUR = 5


@dataclass(frozen=True)
class Invitation:
    email: str
    name: str = ""
    is_admin: bool = False
    teams: Sequence[int] = ()


def welcome_link(agent: Agent) -> str:
    return f"{settings.PUBLIC_ORIGIN}{reverse('web:welcome', kwargs={'token': welcome_token(agent)})}"


def _send(agent: Agent, *, actor: Actor) -> None:
    since = timezone.now() - datetime.timedelta(hours=1)
    if OutboundMessage.objects.filter(kind=MAIL_KIND, recipient_key=agent.email.lower(),
                                      created_at__gte=since).count() >= INVITES_PER_HOUR:
        raise Conflict("too_many_invitations", gettext("%(email)s was sent %(value)s invitations in the "
                       "last hour; try again later.") % {"email": agent.email, "value": INVITES_PER_HOUR}, field="email")
    queue_outbound([NewOutbound(kind=MAIL_KIND, to=[agent.email], context={
        "agent": agent, "link": welcome_link(agent), "inviter": actor.label,
        "days": WELCOME_AGE.days, "sign_in": f"{settings.PUBLIC_ORIGIN}{reverse('web:login')}"})])


@transaction.atomic
def invite_agent(invitation: Invitation, *, actor: Actor) -> Agent:
    """A new agent (admin or agent, in these teams) who chooses their password through the link
    in the mail this sends; they cannot sign in before."""
    if not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can do this."))
    agent = create_agent(invitation.email, name=invitation.name, is_admin=invitation.is_admin, actor=actor)
    if invitation.teams:
        set_agent_teams(agent, teams=invitation.teams, actor=actor)
    _send(agent, actor=actor)
    record_agent(agent, "invited", actor)
    return agent


@transaction.atomic
def resend_invitation(agent: Agent, *, actor: Actor) -> Agent:
    """A new invitation mail for an agent who has not chosen a password yet (the old link keeps
    working until it expires or one of them is used)."""
    if not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can do this."))
    if agent.has_usable_password():
        raise Conflict("already_joined", gettext("%(name)s has chosen a password already.") % {"name": agent.display_name}, field="agent")
    if not agent.is_active:
        raise Conflict("inactive_agent", gettext("%(name)s is deactivated; activate them first.") % {"name": agent.display_name}, field="agent")
    _send(agent, actor=actor)
    record_agent(agent, "invited", actor, again=True)
    return agent
