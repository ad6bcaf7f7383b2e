"""Replies: the page of canned responses and macros (the team's shared ones, managed by admins,
and each agent's own), and what the reply box asks of the server: a canned response filled in
for the item, a macro applied, the draft saved, a pasted image kept, a preview."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from deskhand.agents.models import Agent, Team
from deskhand.automations.rules import Action, ActionType, AssignMode
from deskhand.core.errors import DomainError, NotFound
from deskhand.core.numbers import id_or_none
from deskhand.replies import queries, services
from deskhand.replies.inputs import CannedChanges, Draft, MacroChanges, NewCannedResponse, NewMacro
from deskhand.replies.markdown import to_html
from deskhand.replies.models import CannedResponse, Macro
from deskhand.replies.placeholders import REPLY_PLACEHOLDERS, fill
from deskhand.web.access import actor, agent_required
from deskhand.web.forms_items import priority_choices
from deskhand.web.http import AgentRequest
from deskhand.web.views.items import _get_item_or_404, item_url
from deskhand.work.files import open_stored
from deskhand.work.models import Kind, Status

# What the macro form sets; other actions (made through the API) are kept as they are.
FORM_ACTIONS = (ActionType.SET_STATUS, ActionType.SET_PRIORITY, ActionType.ASSIGN)


def _macro_rows(agent_id: int) -> list[dict[str, Any]]:
    rows = []
    for macro in queries.macro_list(agent_id):
        actions = services.macro_actions(macro)
        rows.append({"macro": macro, "form": _macro_values(actions), "summary": _summary(actions),
                     "kept": _summary(tuple(a for a in actions if a.type not in FORM_ACTIONS))})
    return rows


def _macro_values(actions: tuple[Action, ...]) -> dict[str, str]:
    values = {"status": "", "priority": "", "assign": ""}
    for action in actions:
        if action.type == ActionType.SET_STATUS:
            values["status"] = str(action.value)
        elif action.type == ActionType.SET_PRIORITY:
            values["priority"] = str(action.value)
        elif action.type == ActionType.ASSIGN:
            values["assign"] = f"agent:{action.agent}" if action.agent else f"team:{action.team}"
    return values


def _summary(actions: tuple[Action, ...]) -> list[str]:
    statuses = dict(Status.objects.filter(kind=Kind.TICKET).values_list("key", "label"))
    priorities = dict(priority_choices())
    agents = {a.pk: a.display_name for a in Agent.objects.filter(pk__in=[a.agent for a in actions if a.agent])}
    teams = dict(Team.objects.filter(pk__in=[a.team for a in actions if a.team]).values_list("pk", "name"))
    words = []
    for action in actions:
        if action.type == ActionType.SET_STATUS:
            words.append(gettext("Status: %(value)s") % {"value": statuses.get(str(action.value), action.value)})
        elif action.type == ActionType.SET_PRIORITY:
            words.append(gettext("Priority: %(value)s") % {"value": priorities.get(str(action.value), action.value)})
        elif action.type == ActionType.ASSIGN:
            who = agents.get(action.agent or 0) or teams.get(action.team or 0) or "?"
            words.append(gettext("Assign: %(who)s") % {"who": who})
        else:
            words.append(str(action.type).replace("_", " ").capitalize())
    return words


def _page(request: AgentRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    me = request.user.pk
    return render(request, "web/replies/replies.html", {
        "canned": list(queries.canned_list(me)), "macros": _macro_rows(me), "placeholders": REPLY_PLACEHOLDERS,
        "statuses": list(Status.objects.filter(kind=Kind.TICKET).order_by("position", "id")),
        "priorities": priority_choices(),
        "agent_refs": [(f"agent:{a.pk}", a.display_name) for a in Agent.objects.filter(is_active=True).order_by(
            "name", "email")],
        "team_refs": [(f"team:{t.pk}", t.name) for t in Team.objects.order_by("name")],
        "error_key": "", "error_message": "", "typed": {}, **extra}, status=status)


@require_GET
@agent_required
def replies_page(request: AgentRequest) -> HttpResponse:
    return _page(request)


def _canned(request: AgentRequest, canned_id: int) -> CannedResponse:
    try:
        return queries.get_canned_for_agent(request.user.pk, canned_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _macro(request: AgentRequest, macro_id: int) -> Macro:
    try:
        return queries.get_macro_for_agent(request.user.pk, macro_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _error(request: AgentRequest, key: str, exc: DomainError) -> HttpResponse:
    return _page(request, status=exc.status, error_key=key, error_message=exc.message,
                 typed=request.POST if key.endswith("-new") else {})


@require_POST
@agent_required
def add_canned(request: AgentRequest) -> HttpResponse:
    data = request.POST
    try:
        row = services.create_canned_response(NewCannedResponse(
            title=data.get("title", ""), body=data.get("body", ""), shortcut=data.get("shortcut", ""),
            shared=data.get("shared") == "1"), actor=actor(request))
    except DomainError as exc:
        return _error(request, "canned-new", exc)
    messages.success(request, gettext("Canned response “%(title)s” added.") % {"title": row.title})
    return redirect(reverse("web:replies") + "#canned")


@require_POST
@agent_required
def change_canned(request: AgentRequest, canned_id: int) -> HttpResponse:
    row, data = _canned(request, canned_id), request.POST
    try:
        if data.get("action") == "delete":
            services.delete_canned_response(row, actor=actor(request))
            messages.success(request, gettext("Canned response “%(title)s” removed.") % {"title": row.title})
        else:
            services.update_canned_response(row, changes=CannedChanges(
                title=data.get("title", ""), body=data.get("body", ""), shortcut=data.get("shortcut", ""),
                shared=data.get("shared") == "1"), actor=actor(request))
            messages.success(request, gettext("Canned response “%(title)s” saved.") % {"title": row.title})
    except DomainError as exc:
        return _error(request, f"canned-{canned_id}", exc)
    return redirect(reverse("web:replies") + "#canned")


def _form_actions(request: AgentRequest, kept: tuple[Action, ...] = ()) -> tuple[Action, ...]:
    data = request.POST
    actions: list[Action] = []
    if data.get("status"):
        actions.append(Action(ActionType.SET_STATUS, value=data["status"]))
    if data.get("priority"):
        actions.append(Action(ActionType.SET_PRIORITY, value=data["priority"]))
    kind, _, number = (data.get("assign") or "").partition(":")
    if kind in ("agent", "team") and (pk := id_or_none(number)) is not None:
        actions.append(Action(ActionType.ASSIGN, mode=AssignMode.TEAM,
                              **({"agent": pk} if kind == "agent" else {"team": pk})))  # type: ignore[arg-type]
    return (*actions, *kept)


@require_POST
@agent_required
def add_macro(request: AgentRequest) -> HttpResponse:
    data = request.POST
    try:
        row = services.create_macro(NewMacro(name=data.get("name", ""), reply=data.get("reply", ""),
                                             actions=_form_actions(request), shared=data.get("shared") == "1"),
                                    actor=actor(request))
    except DomainError as exc:
        return _error(request, "macro-new", exc)
    messages.success(request, gettext("Macro “%(name)s” added.") % {"name": row.name})
    return redirect(reverse("web:replies") + "#macros")


@require_POST
@agent_required
def change_macro(request: AgentRequest, macro_id: int) -> HttpResponse:
    row, data = _macro(request, macro_id), request.POST
    try:
        if data.get("action") == "delete":
            services.delete_macro(row, actor=actor(request))
            messages.success(request, gettext("Macro “%(name)s” removed.") % {"name": row.name})
        else:
            kept = tuple(a for a in services.macro_actions(row) if a.type not in FORM_ACTIONS)
            services.update_macro(row, changes=MacroChanges(
                name=data.get("name", ""), reply=data.get("reply", ""), actions=_form_actions(request, kept),
                shared=data.get("shared") == "1"), actor=actor(request))
            messages.success(request, gettext("Macro “%(name)s” saved.") % {"name": row.name})
    except DomainError as exc:
        return _error(request, f"macro-{macro_id}", exc)
    return redirect(reverse("web:replies") + "#macros")


# -- the reply box -------------------------------------------------------------------------------


@require_GET
@agent_required
def canned_for_item(request: AgentRequest, plural: str, item_id: str, canned_id: str) -> HttpResponse:
    """A canned response's text, its placeholders filled in for this item and agent (to insert)."""
    item = _get_item_or_404(plural, item_id)
    row = _canned(request, int(canned_id))
    return HttpResponse(fill(row.body, item, request.user), content_type="text/plain; charset=utf-8")


@require_POST
@agent_required
def apply_macro(request: AgentRequest, plural: str, item_id: str, macro_id: str) -> HttpResponse:
    item = _get_item_or_404(plural, item_id)
    macro = _macro(request, int(macro_id))
    try:
        message = services.apply_macro(item, macro, actor=actor(request))
    except DomainError as exc:
        messages.error(request, gettext("Macro “%(name)s” was not applied: %(message)s") % {"name": macro.name, "message": exc.message})
        return redirect(item_url(item))
    messages.success(request, gettext("Macro “%(name)s” applied.") % {"name": macro.name})
    return redirect(f"{item_url(item)}#message-{message.pk}" if message else item_url(item))


@require_POST
@agent_required
def save_draft(request: AgentRequest, plural: str, item_id: str) -> HttpResponse:
    item = _get_item_or_404(plural, item_id)
    data = request.POST
    try:
        draft = services.save_draft(item, draft=Draft(body=data.get("body", ""), cc=data.get("cc", ""),
                                                      bcc=data.get("bcc", "")), actor=actor(request))
    except DomainError as exc:
        return HttpResponse(gettext("Draft not saved: %(error)s") % {"error": exc.message}, status=200)
    return HttpResponse(gettext("Draft saved") if draft else "")


@require_POST
@agent_required
def paste_image(request: AgentRequest, plural: str, item_id: str) -> HttpResponse:
    """An image pasted into the reply box: kept, and the Markdown that shows it."""
    item = _get_item_or_404(plural, item_id)
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"error": gettext("Paste an image.")}, status=422)
    try:
        image = services.paste_image(item, name=upload.name or "", content=upload.read(services.MAX_IMAGE_BYTES + 1),
                                     actor=actor(request))
    except DomainError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    return JsonResponse({"markdown": f"![{image.name}]({services.PASTED_PREFIX}{image.token})"})


@require_GET
@agent_required
def pasted_image(request: AgentRequest, token: str) -> FileResponse:
    """A pasted image, to its author only, while the reply is being written."""
    try:
        image = queries.pasted_image_for_agent(request.user.pk, token)
    except NotFound as exc:
        raise Http404(exc.message) from None
    try:
        handle, size = open_stored(image.file)
    except OSError:
        raise Http404(gettext("The image is gone.")) from None
    response = FileResponse(handle, content_type=image.content_type)
    response["Content-Length"] = size
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@agent_required
def preview(request: AgentRequest, plural: str, item_id: str) -> HttpResponse:
    """The reply box's Markdown as it will be sent (sanitized)."""
    _get_item_or_404(plural, item_id)
    html = to_html(request.POST.get("body", "")[:200_000])
    return render(request, "web/replies/preview.html", {"html": html})


