"""The bell: the unread count (polled), the panel of recent notifications, opening one, marking
all read; and the agents the note box's @ picker offers."""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from deskhand.agents.queries import mention_candidates
from deskhand.core.errors import NotFound
from deskhand.notifications.mentions import mention_handle
from deskhand.notifications.queries import COUNT_CAP, recent_notifications, unread_count
from deskhand.notifications.services import mark_all_read, mark_read
from deskhand.web.access import agent_required
from deskhand.web.http import AgentRequest

# How often an open page asks for the count (seconds); tests make it shorter.
POLL_SECONDS = 20


def _count_context(request: AgentRequest) -> dict[str, object]:
    count = unread_count(request.user)
    return {"count": count, "count_label": f"{COUNT_CAP - 1}+" if count >= COUNT_CAP else str(count),
            "poll": POLL_SECONDS}


@require_GET
@agent_required
def count(request: AgentRequest) -> HttpResponse:
    response = render(request, "web/notifications/panel.html#count", _count_context(request))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@agent_required
def panel(request: AgentRequest) -> HttpResponse:
    """The recent notifications: the bell's panel for htmx, a page of its own otherwise."""
    context = {"notifications": list(recent_notifications(request.user, limit=15 if request.htmx else 50)),
               **_count_context(request)}
    template = "web/notifications/panel.html#panel" if request.htmx else "web/notifications/panel.html"
    return render(request, template, context)


@require_GET
@agent_required
def open_notification(request: AgentRequest, notification_id: int) -> HttpResponse:
    """Follow a notification to its item; it is read from now on."""
    try:
        notification = mark_read(request.user, notification_id)
    except NotFound:
        raise Http404(gettext("There is no such notification.")) from None
    item = notification.item
    return redirect("web:item-detail", plural=f"{item.kind}s", item_id=item.pk)


@require_POST
@agent_required
def read_all(request: AgentRequest) -> HttpResponse:
    mark_all_read(request.user)
    if request.htmx:
        context = {"notifications": list(recent_notifications(request.user)), **_count_context(request)}
        return render(request, "web/notifications/panel.html#panel", {**context, "oob_count": True})
    return redirect("web:notifications")


@require_GET
@agent_required
def mention_agents(request: AgentRequest) -> JsonResponse:
    """The colleagues `?q=` may mean (active, at most 8), each with the handle that mentions them."""
    agents = [{"handle": handle, "name": agent.display_name, "email": agent.email}
              for agent in mention_candidates(request.GET.get("q", "")[:200], exclude=request.user.pk)
              if (handle := mention_handle(agent.email, agent.name))]
    response = JsonResponse({"agents": agents})
    response["Cache-Control"] = "no-store"
    return response
