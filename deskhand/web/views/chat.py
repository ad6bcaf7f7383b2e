"""The agents' chat console: waiting chats and the agent's own, one conversation at a time in real
time (server-sent events), reply, accept, transfer, end and "Turn into ticket"; and the live badge
of waiting chats beside "Chats" in the sidebar."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from deskhand.agents.models import Agent, Team
from deskhand.chat.models import Chat, ChatStatus
from deskhand.chat.queries import get_chat_for_agent, my_chats, queue_counts, waiting_chats
from deskhand.chat.services import accept_chat, chat_to_ticket, end_chat, post_agent_message, transfer_chat
from deskhand.chat.stream import STREAMS_PER_CLIENT, chat_events, queue_events, slots, sse_after, sse_response
from deskhand.core.errors import DomainError
from deskhand.core.numbers import id_or_none
from deskhand.web.access import actor, agent_required
from deskhand.web.http import AgentRequest

LIST_LIMIT = 100


def _lists(agent: Agent) -> dict[str, object]:
    return {"waiting": list(waiting_chats()[:LIST_LIMIT]), "mine": list(my_chats(agent)[:LIST_LIMIT])}


def _console(request: AgentRequest, chat: Chat | None) -> dict[str, object]:
    context: dict[str, object] = {**_lists(request.user), "chat": chat}
    if chat is not None:
        context.update({
            "log": list(chat.messages.order_by("id")),
            "is_mine": chat.status == ChatStatus.ACTIVE and chat.agent_id == request.user.pk,
            "agents": Agent.objects.filter(is_active=True).exclude(pk=request.user.pk).order_by("name", "email")[:200],
            "teams": Team.objects.order_by("name")[:200],
        })
    return context


@require_GET
@agent_required
def console(request: AgentRequest) -> HttpResponse:
    chat = None
    chat_id = id_or_none(request.GET.get("chat", ""))
    if chat_id is not None:
        try:
            chat = get_chat_for_agent(request.user, chat_id)
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(request, "web/chat/console.html", _console(request, chat))


@require_GET
@agent_required
def lists(request: AgentRequest) -> HttpResponse:
    """The two lists, for the console to refresh when the queue changes."""
    current = id_or_none(request.GET.get("chat", ""))
    return render(request, "web/chat/console.html#lists", {**_lists(request.user), "current": current})


def _back(chat_id: int) -> HttpResponse:
    return redirect(f"{reverse('web:chats')}?chat={chat_id}")


def _act(request: AgentRequest, chat_id: int, done: str, action: str) -> HttpResponse:
    try:
        chat = get_chat_for_agent(request.user, chat_id)
        if action == "accept":
            accept_chat(chat, agent=request.user, actor=actor(request))
        elif action == "end":
            end_chat(chat, actor=actor(request))
        elif action == "transfer":
            kind, _sep, number = request.POST.get("to", "").partition(":")
            target = id_or_none(number)
            to_agent = Agent.objects.filter(pk=target, is_active=True).first() if kind == "agent" and target else None
            to_team = Team.objects.filter(pk=target).first() if kind == "team" and target else None
            transfer_chat(chat, to_agent=to_agent, to_team=to_team, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return _back(chat_id)


@require_POST
@agent_required
def accept(request: AgentRequest, chat_id: int) -> HttpResponse:
    return _act(request, chat_id, gettext("You accepted the chat."), "accept")


@require_POST
@agent_required
def end(request: AgentRequest, chat_id: int) -> HttpResponse:
    return _act(request, chat_id, gettext("The chat has ended."), "end")


@require_POST
@agent_required
def transfer(request: AgentRequest, chat_id: int) -> HttpResponse:
    return _act(request, chat_id, gettext("The chat was transferred."), "transfer")


@require_POST
@agent_required
def to_ticket(request: AgentRequest, chat_id: int) -> HttpResponse:
    try:
        chat = get_chat_for_agent(request.user, chat_id)
        item = chat_to_ticket(chat, actor=actor(request), agent=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(chat_id)
    messages.success(request, gettext("The chat is now ticket #%(number)s.") % {"number": item.pk})
    return redirect(reverse("web:item-detail", kwargs={"plural": "tickets", "item_id": item.pk}))


@require_POST
@agent_required
def reply(request: AgentRequest, chat_id: int) -> HttpResponse:
    """The reply box (sent by the console's script; the message comes back through the stream)."""
    try:
        chat = get_chat_for_agent(request.user, chat_id)
        message = post_agent_message(chat, body=request.POST.get("body", "")[:10_000], agent=request.user,
                                     actor=actor(request))
    except DomainError as exc:
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"detail": exc.message, "field": exc.field}, status=exc.status)
        messages.error(request, exc.message)
        return _back(chat_id)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"id": message.pk}, status=201)
    return _back(chat_id)


@require_GET
@agent_required
def counts(request: AgentRequest) -> JsonResponse:
    return JsonResponse(queue_counts(request.user.pk))


async def _signed_in_agent(request: HttpRequest) -> Agent | None:
    user = await request.auser()
    return user if isinstance(user, Agent) and user.is_active else None


@require_GET
async def events(request: HttpRequest, chat_id: int) -> HttpResponseBase:
    """One conversation's events for the console."""
    agent = await _signed_in_agent(request)
    if agent is None:
        return JsonResponse({"detail": gettext("Sign in first."), "field": None}, status=401)
    release = slots.take({f"agent:{agent.pk}": STREAMS_PER_CLIENT})
    if release is None:
        return JsonResponse({"detail": gettext("Too many open connections."), "field": None}, status=429)
    after = sse_after(request.headers.get("Last-Event-ID") or request.GET.get("after"))
    return sse_response(chat_events(chat_id, after=after, release=release), release, request=request)


@require_GET
async def queue(request: HttpRequest) -> HttpResponseBase:
    """The badge's events: chats waiting, and the agent's own."""
    agent = await _signed_in_agent(request)
    if agent is None:
        return JsonResponse({"detail": gettext("Sign in first."), "field": None}, status=401)
    release = slots.take({f"agent:{agent.pk}": STREAMS_PER_CLIENT})
    if release is None:
        return JsonResponse({"detail": gettext("Too many open connections."), "field": None}, status=429)
    return sse_response(queue_events(agent.pk, release=release), release, request=request)
