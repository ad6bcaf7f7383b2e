"""Live chat's writes: start, post, accept, transfer, end, turn into a ticket, send the transcript,
and the sweep that turns a chat nobody accepted into a ticket. Each runs in one transaction with an
audit row; the streams are woken after commit (deskhand/chat/broker.py). What the customer reads
(system messages, the transcript mail) is written in the chat's language."""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskhand.agents.models import Agent, Team
from deskhand.audit.services import record
from deskhand.chat.broker import QUEUE, chat_topic, publish
from deskhand.chat.inputs import ChatStart
from deskhand.chat.models import Author, Chat, ChatMessage, ChatSource, ChatStatus
from deskhand.chat.queries import chat_open, token_hash, transcript_lines
from deskhand.config.queries import get_setting
from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.commit import after_commit
from deskhand.core.emailaddr import AddressError, parse_email
from deskhand.core.errors import Conflict, DomainError, Forbidden, Invalid
from deskhand.core.i18n import supported_language
from deskhand.core.text import has_control_characters
from deskhand.customers.models import Customer, Source
from deskhand.customers.services import find_or_create_customer
from deskhand.mail.outbound import NewOutbound, queue_outbound
from deskhand.work.inputs import AssigneeRef, ItemDraft
from deskhand.work.models import Channel, Item
from deskhand.work.models.items import reference
from deskhand.work.services.messages import submit_request

MAX_BODY = 2000  # characters of one message
MAX_MESSAGES = 500  # messages of one chat: past this it is time for a ticket
MESSAGES_PER_MINUTE = 20  # from one visitor in one chat
CHATS_PER_HOUR = 5  # started from one network address, or for one email address
TRANSCRIPTS_PER_CHAT = 3
TRANSCRIPTS_PER_ADDRESS = 5  # a day, over all chats with one address: typed by anyone, mailed by us
SWEEP_BATCH = 100
OPEN = (ChatStatus.WAITING, ChatStatus.ACTIVE)


class TooMany(DomainError):
    status = 429


@dataclass(frozen=True)
class Started:
    chat: Chat
    token: str  # the visitor's key to the chat; only its hash is stored


def _wake(chat: Chat, *, queue: bool = False) -> None:
    topics = [chat_topic(chat.pk), *([QUEUE] if queue else [])]
    # Robust: the message is saved; with Redis out of reach, readers see it at their next poll.
    after_commit(publish, topics)


def _audit(chat: Chat, action: str, actor: Actor, changes: dict[str, object] | None = None) -> None:
    record(actor=actor, action=f"chat.{action}", object_type="chat", object_id=chat.pk,
           object_label=f"Chat with {chat.email}", changes=changes)


def _body(value: object, *, field: str) -> str:
    if not isinstance(value, str):
        raise Invalid("invalid_message", _("Write a message."), field=field)
    text = value.strip()
    if not text:
        raise Invalid("message_required", _("Write a message."), field=field)
    if len(text) > MAX_BODY:
        raise Invalid("message_too_long", _("A message has at most %(count)s characters.") % {"count": MAX_BODY},
                      field=field)
    if has_control_characters(text.replace("\n", "").replace("\r", "").replace("\t", "")):
        raise Invalid("control_characters", _("The message contains characters that cannot be sent."), field=field)
    return text.replace("\r\n", "\n")


def _system(chat: Chat, text: str) -> ChatMessage:
    return ChatMessage.objects.create(chat=chat, author=Author.SYSTEM, body=text)


def _say(chat: Chat, message: str, **values: object) -> str:
    """`message` (a gettext msgid) in the chat's language."""
    with translation.override(supported_language(chat.language) or "en"):
        return _(message) % values if values else _(message)


def _locked(chat: Chat) -> Chat:
    """The chat's row, locked for this transaction (PostgreSQL; SQLite writes one at a time)."""
    return Chat.objects.select_for_update(of=("self",)).select_related("agent", "customer").get(pk=chat.pk)


def _check_start_rate(client: str, email: str, now: datetime.datetime) -> None:
    since = now - datetime.timedelta(hours=1)
    recent = Chat.objects.filter(created_at__gte=since)
    if (client and recent.filter(client=client).count() >= CHATS_PER_HOUR) or \
            recent.filter(email__iexact=email).count() >= CHATS_PER_HOUR:
        raise TooMany("too_many_chats", _("You started many chats in the last hour. Try again later or write to us "
                                          "by email."), field="message")


@transaction.atomic
def start_chat(start: ChatStart, *, now: datetime.datetime | None = None) -> Started:
    """A visitor starts a chat with a first message. Outside business hours (or with chat switched
    off) the message is left as a ticket at once: the chat is then `ticket`."""
    now = now or timezone.now()
    body = _body(start.message, field="message")
    language = supported_language(start.language)
    if start.customer_id is not None:
        customer = Customer.objects.get(pk=start.customer_id)
        email, name = customer.email, customer.name
        _check_start_rate(start.client[:64], email, now)
    else:
        if not isinstance(start.email, str) or not start.email.strip():
            raise Invalid("email_required", _("Enter your email address."), field="email")
        try:
            address = parse_email(start.email.strip()[:254]).address
        except AddressError:
            raise Invalid("invalid_email", _("Enter a valid email address."), field="email") from None
        if not isinstance(start.name, str) or len(start.name.strip()) > 200 or has_control_characters(start.name):
            raise Invalid("invalid_name", _("A name has at most 200 characters."), field="name")
        name = " ".join(start.name.split())
        # Before the customer is filed: a visitor past the limit costs one count, not a customer row.
        _check_start_rate(start.client[:64], address, now)
        customer, _created = find_or_create_customer(start.email.strip(), name=name, language=language,
                                                     source=Source.CHAT, actor=Actor.customer(start.email.strip()[:254]))
        email = customer.email
        name = name or customer.name
    token = secrets.token_urlsafe(24)
    chat = Chat.objects.create(
        customer=customer, email=email, name=name[:200], language=language or supported_language(customer.language),
        signed_in=start.customer_id is not None,
        status=ChatStatus.WAITING, source=start.source if start.source in ChatSource.values else ChatSource.WIDGET,
        token_hash=token_hash(token), client=start.client[:64],
        page_url=start.page_url[:500] if isinstance(start.page_url, str) else "", waiting_since=now)
    ChatMessage.objects.create(chat=chat, author=Author.CUSTOMER, name=name or email, body=body)
    _audit(chat, "started", Actor.customer(email), {"source": chat.source})
    if not chat_open(now=now):
        _file_ticket(chat, actor=Actor.customer(email), left_message=True)
    _wake(chat, queue=True)
    return Started(chat=chat, token=token)


@transaction.atomic
def post_customer_message(chat: Chat, *, body: str, now: datetime.datetime | None = None) -> ChatMessage:
    """The visitor writes: not after the chat ended, at most MESSAGES_PER_MINUTE a minute."""
    text = _body(body, field="body")
    chat = _locked(chat)
    if chat.status not in OPEN:
        raise Conflict("chat_ended", _("This chat has ended."), field="body")
    since = (now or timezone.now()) - datetime.timedelta(minutes=1)
    mine = chat.messages.filter(author=Author.CUSTOMER)
    if mine.filter(created_at__gte=since).count() >= MESSAGES_PER_MINUTE:
        raise TooMany("too_many_messages", _("You are writing very fast. Wait a moment and send it again."),
                      field="body")
    if chat.messages.count() >= MAX_MESSAGES:
        raise Conflict("chat_too_long", _("This chat is very long. Start a new one, please."), field="body")
    message = ChatMessage.objects.create(chat=chat, author=Author.CUSTOMER, name=chat.name or chat.email, body=text)
    _wake(chat)
    return message


@transaction.atomic
def post_agent_message(chat: Chat, *, body: str, agent: Agent, actor: Actor) -> ChatMessage:
    """The agent who has the chat answers (accept it first)."""
    text = _body(body, field="body")
    chat = _locked(chat)
    if chat.status not in OPEN:
        raise Conflict("chat_ended", _("This chat has ended."), field="body")
    if chat.status == ChatStatus.WAITING or chat.agent_id != agent.pk:
        raise Forbidden("not_your_chat", _("Accept the chat before you answer it."))
    if chat.messages.count() >= MAX_MESSAGES:
        raise Conflict("chat_too_long", _("This chat is very long: turn it into a ticket."), field="body")
    message = ChatMessage.objects.create(chat=chat, author=Author.AGENT, agent=agent, name=agent.display_name,
                                         body=text)
    _wake(chat)
    return message


@transaction.atomic
def accept_chat(chat: Chat, *, agent: Agent, actor: Actor, now: datetime.datetime | None = None) -> Chat:
    """An agent takes a waiting chat; of two agents at once, one wins and the other is told."""
    now = now or timezone.now()
    # One conditional UPDATE: the database decides who was first.
    taken = Chat.objects.filter(pk=chat.pk, status=ChatStatus.WAITING).update(
        status=ChatStatus.ACTIVE, agent=agent, team=None, accepted_at=now)
    if not taken:
        raise Conflict("chat_not_waiting", _("Someone else took this chat, or it is no longer waiting."))
    chat = _locked(chat)
    if chat.accepted_by_id is None:
        Chat.objects.filter(pk=chat.pk).update(accepted_by=agent)
        chat.accepted_by = agent
    _system(chat, _say(chat, gettext_noop("%(name)s joined the chat."), name=agent.display_name))
    _audit(chat, "accepted", actor, {"agent": agent.pk})
    _wake(chat, queue=True)
    return chat


@transaction.atomic
def transfer_chat(chat: Chat, *, to_agent: Agent | None = None, to_team: Team | None = None, actor: Actor,
                  now: datetime.datetime | None = None) -> Chat:
    """Hand a chat to another agent (it is theirs at once) or to a team (it waits again, for anyone of
    the queue, and its accept time starts anew). Only the agent who has it, or an admin."""
    if (to_agent is None) == (to_team is None):
        raise Invalid("transfer_target", _("Choose an agent or a team."), field="to")
    chat = _locked(chat)
    if chat.status not in OPEN:
        raise Conflict("chat_ended", _("This chat has ended."))
    if chat.status == ChatStatus.ACTIVE and chat.agent_id != actor.agent_id and not actor.is_admin:
        raise Forbidden("not_your_chat", _("Only the agent who has this chat can transfer it."))
    before = {"agent": chat.agent_id, "team": chat.team_id, "status": chat.status}
    if to_agent is not None:
        if not to_agent.is_active:
            raise Invalid("inactive_agent", _("This agent is deactivated."), field="to")
        chat.agent, chat.team, chat.status = to_agent, None, ChatStatus.ACTIVE
        chat.accepted_at = chat.accepted_at or (now or timezone.now())
        _system(chat, _say(chat, gettext_noop("You are now chatting with %(name)s."), name=to_agent.display_name))
    else:
        assert to_team is not None
        chat.agent, chat.team, chat.status = None, to_team, ChatStatus.WAITING
        chat.waiting_since = now or timezone.now()
        _system(chat, _say(chat, gettext_noop("We passed your chat on to %(team)s. Someone will be with you shortly."),
                           team=to_team.name))
    chat.save(update_fields=["agent", "team", "status", "accepted_at", "waiting_since"])
    _audit(chat, "transferred", actor, {"old": before, "new": {"agent": chat.agent_id, "team": chat.team_id,
                                                               "status": chat.status}})
    _wake(chat, queue=True)
    return chat


@transaction.atomic
def end_chat(chat: Chat, *, actor: Actor, now: datetime.datetime | None = None) -> Chat:
    """The visitor or the agent ends the chat; ending an ended chat changes nothing."""
    chat = _locked(chat)
    if chat.status not in OPEN:
        return chat
    if actor.agent_id is not None and chat.agent_id not in (None, actor.agent_id) and not actor.is_admin:
        raise Forbidden("not_your_chat", _("Only the agent who has this chat can end it."))
    chat.status, chat.ended_at = ChatStatus.ENDED, now or timezone.now()
    chat.save(update_fields=["status", "ended_at"])
    _system(chat, _say(chat, gettext_noop("The chat has ended.")))
    _audit(chat, "ended", actor)
    _wake(chat, queue=True)
    return chat


def _transcript(chat: Chat) -> str:
    lines = []
    for line in transcript_lines(chat):
        at = line["at"][11:16]
        who = line["name"] or _say(chat, gettext_noop("Note"))
        lines.append(f"[{at}] {who}: {line['body']}" if line["author"] != Author.SYSTEM else f"[{at}] — {line['body']}")
    return "\n\n".join(lines)


def _file_ticket(chat: Chat, *, actor: Actor, left_message: bool = False, agent: Agent | None = None) -> Item:
    first = chat.messages.filter(author=Author.CUSTOMER).order_by("id").first()
    title = " ".join((first.body if first else chat.email).split())
    title = title if len(title) <= 120 else title[:119].rstrip() + "…"
    item = submit_request(ItemDraft(title=title, requester=chat.customer,
                                    assignees=(AssigneeRef("agent", agent.pk),) if agent is not None else ()),
                          body=_transcript(chat), channel=Channel.CHAT, actor=actor)
    chat.status, chat.ticket = ChatStatus.TICKET, item
    chat.ended_at = chat.ended_at or timezone.now()
    chat.save(update_fields=["status", "ticket", "ended_at"])
    if left_message:
        text = _say(chat, gettext_noop("Thank you. We are not online right now, so your message became request %(ref)s; "
                          "we will answer by email."), ref=reference(item.pk))
    else:
        text = _say(chat, gettext_noop("Your chat is now request %(ref)s. We will answer you by email."), ref=reference(item.pk))
    _system(chat, text)
    _audit(chat, "ticket", actor, {"ticket": item.pk, "left_message": left_message})
    return item


@transaction.atomic
def chat_to_ticket(chat: Chat, *, actor: Actor, agent: Agent | None = None) -> Item:
    """The chat becomes a ticket with its transcript, through the work services (automations, SLA
    and notifications apply); by an agent's choice (`agent` is then assigned) or by the sweep."""
    chat = _locked(chat)
    if chat.status == ChatStatus.TICKET:
        raise Conflict("chat_is_ticket", _("This chat became %(ref)s already.")
                       % {"ref": reference(chat.ticket_id or 0)})
    if chat.status == ChatStatus.ACTIVE and actor.agent_id is not None and chat.agent_id != actor.agent_id \
            and not actor.is_admin:
        raise Forbidden("not_your_chat", _("Only the agent who has this chat can turn it into a ticket."))
    item = _file_ticket(chat, actor=actor, agent=agent)
    _wake(chat, queue=True)
    return item


@transaction.atomic
def send_transcript(chat: Chat, *, actor: Actor) -> str:
    """Mail the conversation (in the chat's language) to the chat's own address, at most
    TRANSCRIPTS_PER_CHAT times. Returns the address. Never to an address the visitor names: the
    chat's token proves only that they started it, and any other address would make the help
    desk a relay for whatever text a stranger types into a chat."""
    chat = _locked(chat)
    address = chat.email
    if chat.transcripts_sent >= TRANSCRIPTS_PER_CHAT:
        raise TooMany("too_many_transcripts", _("The transcript was sent %(count)s times already.")
                      % {"count": TRANSCRIPTS_PER_CHAT}, field="email")
    since = timezone.now() - datetime.timedelta(days=1)
    sent_today = Chat.objects.filter(email__iexact=address, created_at__gte=since).aggregate(
        total=Sum("transcripts_sent"))["total"] or 0
    if sent_today >= TRANSCRIPTS_PER_ADDRESS:
        raise TooMany("too_many_transcripts", _("Enough transcripts went to this address today. Try again tomorrow."),
                      field="email")
    chat.transcripts_sent += 1
    chat.save(update_fields=["transcripts_sent"])
    queue_outbound([NewOutbound(kind="chat_transcript", to=[address], language=chat.language, context={
        "chat": chat, "lines": transcript_lines(chat), "ticket": reference(chat.ticket_id) if chat.ticket_id else ""})])
    _audit(chat, "transcript_sent", actor, {"to": address})
    return address


def sweep_unanswered(*, now: datetime.datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Chats waiting longer than `chat_accept_seconds` become tickets, one transaction each (an
    agent accepting at the same moment wins or loses cleanly). Returns how many."""
    now = now or timezone.now()
    due = now - datetime.timedelta(seconds=int(get_setting("chat_accept_seconds")))
    ids = list(Chat.objects.filter(status=ChatStatus.WAITING, waiting_since__lte=due)
               .order_by("waiting_since").values_list("pk", flat=True)[:limit])
    done = 0
    for chat_id in ids:
        with transaction.atomic():
            # Claim it: only a chat still waiting is turned (an agent may have just accepted it).
            claimed = Chat.objects.filter(pk=chat_id, status=ChatStatus.WAITING, waiting_since__lte=due).update(
                status=ChatStatus.ENDED)
            if not claimed:
                continue
            chat = Chat.objects.select_related("customer").get(pk=chat_id)
            _file_ticket(chat, actor=SYSTEM)
            _wake(chat, queue=True)
            done += 1
    return done
