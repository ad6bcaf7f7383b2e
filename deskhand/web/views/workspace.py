"""The agent's workspace around the lists: views (built-in and saved) with their counts, who else
is on an item page, and the search box that finds tickets, tasks, customers and organizations."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskhand.core.errors import DomainError, NotFound
from deskhand.core.numbers import id_or_none, int_or_default
from deskhand.core.text import search_term
from deskhand.customers import queries as customer_queries
from deskhand.web.access import actor, agent_required
from deskhand.web.http import AgentRequest
from deskhand.work import queries, workspace
from deskhand.work.inputs import ViewChanges, ViewDraft
from deskhand.work.models import Item, Kind, SavedView
from deskhand.work.services.workspace import QUERY_KEYS, change_view, delete_view, heartbeat, leave, save_view

PLURALS = {Kind.TICKET: "tickets", Kind.TASK: "tasks"}
KINDS = {plural: kind for kind, plural in PLURALS.items()}
SEARCH_GROUP = 8


def _kind(plural: str) -> str:
    try:
        return KINDS[plural]
    except KeyError:
        raise Http404 from None


def list_url(kind: str, query: dict[str, str]) -> str:
    return f"{reverse(f'web:{kind}-list')}?{urlencode(query)}" if query else reverse(f"web:{kind}-list")


# -- views -----------------------------------------------------------------------------------------


@require_GET
@agent_required
def view_counts(request: AgentRequest, plural: str) -> HttpResponse:
    """The sidebar's counts, swapped into their places (loaded after the page, renewed each minute)."""
    kind = _kind(plural)
    views = workspace.views_for(request.user.pk, kind)
    counts = workspace.view_counts(views, kind, me=request.user.pk)
    return render(request, "web/items/views.html#counts", {"views": views, "counts": counts})


def _query_of(data: QueryDict) -> dict[str, str]:
    query = QueryDict(str(data.get("query", ""))[:2000])
    return {key: str(query.get(key, "")) for key in query if key in QUERY_KEYS and query.get(key)}


def _manage(request: AgentRequest, kind: str, *, status: int = 200, **extra: Any) -> HttpResponse:
    views = [view for view in workspace.views_for(request.user.pk, kind) if view.saved is not None]
    rows = [{"view": view, "url": list_url(kind, dict(view.query)),
             "mine": view.saved.owner_id == request.user.pk,  # type: ignore[union-attr]
             "editable": view.saved.owner_id == request.user.pk or request.user.is_admin}  # type: ignore[union-attr]
            for view in views]
    return render(request, "web/items/views.html", {
        "kind": kind, "plural": PLURALS[Kind(kind)], "rows": rows, "built_in": workspace.BUILT_IN.get(kind, ()),
        "errors": {}, **extra}, status=status)


@require_http_methods(["GET", "POST"])
@agent_required
def views_page(request: AgentRequest, plural: str) -> HttpResponse:
    """GET: the views, to rename, share or delete. POST: save the list's current filters as a view."""
    kind = _kind(plural)
    if request.method == "GET":
        return _manage(request, kind)
    query = _query_of(request.POST)
    try:
        view = save_view(ViewDraft(kind=kind, name=request.POST.get("name", ""), query=query,
                                   shared=request.POST.get("shared") == "on"), actor=actor(request))
    except DomainError as exc:
        messages.error(request, gettext("The view was not saved: %(error)s") % {"error": exc.message})
        return redirect(list_url(kind, query))
    messages.success(request, (gettext("View “%(name)s” saved and shared with the team.") if view.shared
                              else gettext("View “%(name)s” saved.")) % {"name": view.name})
    return redirect(list_url(kind, dict(view.query)))


def _saved(request: AgentRequest, kind: str, view_id: str) -> SavedView:
    view = workspace.saved_view_list(request.user.pk, kind).filter(pk=id_or_none(view_id) or 0).first()
    if view is None:
        raise Http404(gettext("No such view."))
    return view


@require_POST
@agent_required
def change_saved_view(request: AgentRequest, plural: str, view_id: str) -> HttpResponse:
    kind = _kind(plural)
    view = _saved(request, kind, view_id)
    try:
        change_view(view, changes=ViewChanges(name=request.POST.get("name", ""),
                                              shared=request.POST.get("shared") == "on"), actor=actor(request))
    except DomainError as exc:
        return _manage(request, kind, status=exc.status, errors={view.pk: exc.message})
    messages.success(request, gettext("View “%(name)s” saved.") % {"name": view.name})
    return redirect("web:views", plural=plural)


@require_POST
@agent_required
def delete_saved_view(request: AgentRequest, plural: str, view_id: str) -> HttpResponse:
    kind = _kind(plural)
    view = _saved(request, kind, view_id)
    try:
        delete_view(view, actor=actor(request))
    except DomainError as exc:
        return _manage(request, kind, status=exc.status, errors={view.pk: exc.message})
    messages.success(request, gettext("View “%(name)s” deleted.") % {"name": view.name})
    return redirect("web:views", plural=plural)


# -- who is on an item -----------------------------------------------------------------------------


def _item(plural: str, item_id: str) -> Item:
    try:
        return queries.get_item(int(item_id), kind=_kind(plural))
    except NotFound:
        raise Http404 from None


@require_POST
@agent_required
def presence(request: AgentRequest, plural: str, item_id: str) -> HttpResponse:
    """The item page's heartbeat: I am here (typing or not); answers who else is, and whether a
    message arrived since the page showed the conversation."""
    item = _item(plural, item_id)
    heartbeat(item, agent_id=request.user.pk, typing=request.POST.get("typing") == "1")
    shown = int_or_default(request.POST.get("last"), -1, minimum=-1)
    arrived = list(workspace.messages_since(item, shown).order_by("id")[:20]) if shown >= 0 else []
    return render(request, "web/items/presence.html", {
        "item": item, "plural": plural, "present": workspace.present(item, agent_id=request.user.pk),
        "arrived": [message for message in arrived if message.author_agent_id != request.user.pk], "last": shown})


@require_POST
@agent_required
def leave_item(request: AgentRequest, plural: str, item_id: str) -> HttpResponse:
    leave(_item(plural, item_id), agent_id=request.user.pk)
    return HttpResponse(status=204)


# -- search everything -----------------------------------------------------------------------------


@require_GET
@agent_required
def search(request: AgentRequest) -> HttpResponse:
    """Tickets, tasks, customers and organizations at once; `#123` opens item 123."""
    q = search_term(request.GET.get("q"))
    reference = queries.REFERENCE.match(q) if q.startswith("#") else None
    jump = Item.objects.filter(pk=int(reference.group(1))).only("kind", "title").first() if reference else None
    if jump is not None and not request.htmx:
        return redirect("web:item-detail", plural=PLURALS[Kind(jump.kind)], item_id=jump.pk)
    groups: list[dict[str, Any]] = []
    if q:
        for kind in (Kind.TICKET, Kind.TASK):
            filters = queries.ItemFilters(search=q)
            try:
                rows = list(queries.item_list(kind, filters, sort="-updated_at", followers=False)[:SEARCH_GROUP + 1])
            except DomainError:
                rows = []
            groups.append({"name": gettext(PLURALS[kind].capitalize()), "plural": gettext(PLURALS[kind]), "kind": kind, "rows": rows[:SEARCH_GROUP],
                           "more": list_url(kind, {"search": q}) if len(rows) > SEARCH_GROUP else ""})
        customers = list(customer_queries.customer_list(search=q)[:SEARCH_GROUP + 1])
        groups.append({"name": gettext("Customers"), "plural": gettext("customers"), "kind": "customer", "rows": customers[:SEARCH_GROUP],
                       "more": f"{reverse('web:customers')}?{urlencode({'q': q})}" if len(customers) > SEARCH_GROUP
                       else ""})
        organizations = list(customer_queries.organization_list(search=q)[:SEARCH_GROUP + 1])
        groups.append({"name": gettext("Organizations"), "plural": gettext("organizations"), "kind": "organization", "rows": organizations[:SEARCH_GROUP],
                       "more": f"{reverse('web:customers')}?{urlencode({'q': q})}"
                       if len(organizations) > SEARCH_GROUP else ""})
    context = {"q": q, "groups": groups, "found": any(group["rows"] for group in groups),
               "jump": jump, "jump_plural": PLURALS[Kind(jump.kind)] if jump else ""}
    template = "web/search.html#results" if request.htmx else "web/search.html"
    return render(request, template, context)
