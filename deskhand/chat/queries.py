"""Reads of live chat: availability, the scoped getters, the agents' lists and what a stream sends."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from deskhand.agents.models import Agent
from deskhand.chat.models import Chat, ChatMessage, ChatStatus
from deskhand.config.queries import get_settings
from deskhand.core.errors import Forbidden, NotFound
from deskhand.sla.models import SlaPolicy
from deskhand.work.models.items import reference

MAX_READ = 200  # messages one read of a stream sends; the rest follow at once


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def within_hours(policy: SlaPolicy, now: datetime.datetime) -> bool:
    """Whether `now` falls in the policy's business hours (its days, hours, zone and holidays)."""
    if policy.always:
        return True
    try:
        local = now.astimezone(ZoneInfo(policy.time_zone))
    except (KeyError, ValueError):
        local = now
    if local.weekday() not in policy.days or local.date().isoformat() in policy.holidays:
        return False
    return policy.start <= local.time().replace(tzinfo=None) < policy.end


def chat_open(*, now: datetime.datetime | None = None) -> bool:
    """Whether a chat started now reaches an agent: chat is switched on and, when a business-hours
    policy is chosen, now is within its hours (a policy deleted since means always)."""
    values = get_settings()
    if not values["chat_enabled"]:
        return False
    policy_id = values["chat_hours_policy"]
    if policy_id is None:
        return True
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    return policy is None or within_hours(policy, now or timezone.now())


def availability(*, now: datetime.datetime | None = None) -> dict[str, Any]:
    """What the widget and the portal show before a chat starts (in the active language)."""
    if chat_open(now=now):
        return {"open": True, "message": _("We are online. Ask us anything and an agent will answer here.")}
    return {"open": False,
            "message": _("We are not online right now. Leave a message and we will answer by email.")}


def get_chat_for_visitor(chat_id: int, token: str) -> Chat:
    """The visitor's chat: 404 when there is none, 403 when the token is not its own."""
    chat = Chat.objects.select_related("agent", "ticket").filter(pk=chat_id).first()
    if chat is None:
        raise NotFound("chat_not_found", _("There is no such chat."))
    if not token or not constant_time_compare(token_hash(token[:200]), chat.token_hash):
        raise Forbidden("wrong_token", _("This chat belongs to someone else."))
    return chat


def get_chat_for_agent(agent: Agent, chat_id: int) -> Chat:
    """Any chat, for an active agent: the team sees every conversation (only the one who has it
    answers, see services.post_agent_message)."""
    chat = Chat.objects.select_related("agent", "team", "ticket", "customer").filter(pk=chat_id).first()
    if chat is None or not agent.is_active:
        raise NotFound("chat_not_found", _("There is no such chat."))
    return chat


def waiting_chats() -> QuerySet[Chat]:
    """Chats no agent has, oldest first: every agent's queue."""
    return Chat.objects.filter(status=ChatStatus.WAITING).select_related("team").order_by("waiting_since", "id")


def my_chats(agent: Agent) -> QuerySet[Chat]:
    return Chat.objects.filter(agent=agent, status=ChatStatus.ACTIVE).order_by("accepted_at", "id")


def queue_counts(agent_id: int) -> dict[str, int]:
    """The badge: chats waiting, and the agent's own active ones."""
    return {"waiting": Chat.objects.filter(status=ChatStatus.WAITING).count(),
            "mine": Chat.objects.filter(agent_id=agent_id, status=ChatStatus.ACTIVE).count()}


def message_data(message: ChatMessage) -> dict[str, Any]:
    return {"id": message.pk, "author": message.author, "name": message.name, "body": message.body,
            "at": message.created_at.isoformat()}


def chat_state(chat: Chat) -> dict[str, Any]:
    """A chat's `status` event: its status, the agent's name and the ticket it became."""
    return {"status": chat.status,
            "agent": chat.agent.display_name if chat.agent is not None and chat.status == ChatStatus.ACTIVE else None,
            "ticket": reference(chat.ticket_id) if chat.ticket_id is not None else None}


def read_after(chat_id: int, after: int) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A stream's look: the messages after id `after` and the chat's state (None: no such chat)."""
    chat = Chat.objects.select_related("agent").filter(pk=chat_id).first()
    if chat is None:
        return [], None
    messages = [message_data(message) for message in
                ChatMessage.objects.filter(chat_id=chat_id, id__gt=after).order_by("id")[:MAX_READ]]
    return messages, chat_state(chat)


def transcript_lines(chat: Chat) -> list[dict[str, Any]]:
    return [message_data(message) for message in chat.messages.order_by("id")]
