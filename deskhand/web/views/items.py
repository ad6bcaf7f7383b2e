"""Tickets and tasks: the lists (List, By portfolio, By customer) with filters and bulk actions, the
create forms, and the item page with its conversation, properties edited in place, time and history."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskhand.config.queries import VIEWS, get_settings
from deskhand.core.emailaddr import AddressError, parse_email
from deskhand.core.errors import DomainError, Invalid, NotFound
from deskhand.core.html import sanitize_html, without_remote_images
from deskhand.core.numbers import id_or_none, int_or_default, parse_id
from deskhand.core.text import search_term
from deskhand.customers import queries as customer_queries
from deskhand.mail import queries as mail_queries
from deskhand.mail.models import InboundEmail
from deskhand.notifications.services import mark_item_read
from deskhand.replies.inputs import Reply
from deskhand.replies.queries import copies_for_messages, reply_box
from deskhand.replies.services import send_reply, split_addresses
from deskhand.sla.queries import item_sla
from deskhand.surveys.queries import latest_answer
from deskhand.web.access import actor, agent_required
from deskhand.web.forms import add_domain_error, custom_values
from deskhand.web.forms_items import (
    NONE,
    Choices,
    CustomFieldsForm,
    NewItemForm,
    TimeForm,
    assignee_refs,
    optional_id,
    priority_choices,
)
from deskhand.web.history import Line, Names, item_history
from deskhand.web.http import AgentRequest
from deskhand.web.templatetags.words import status_label
from deskhand.web.views.admin_mail import eml_response, original_context
from deskhand.work import queries, workspace
from deskhand.work.files import open_stored
from deskhand.work.inputs import BulkChanges, FollowerRef, ItemChanges, ItemDraft
from deskhand.work.models import Attachment, Channel, Item, Kind, Message, MessageKind
from deskhand.work.services.items import bulk_change, change_item, create_task, create_task_from, submit_ticket
from deskhand.work.services.messages import NewAttachment, customer_recipients
from deskhand.work.services.timesheets import log_time
from deskhand.work.services.workspace import open_item, resolve_me

KINDS = {"tickets": Kind.TICKET, "tasks": Kind.TASK}
PLURALS = {Kind.TICKET: "tickets", Kind.TASK: "tasks"}
PAGE_SIZE = 50
FILTERS = ("status", "priority", "assignee", "organization", "requester", "project", "folder", "search", "sla",
           "updated_by")
VIEW_LABELS = {"list": gettext_lazy("List"), "by_portfolio": gettext_lazy("By portfolio"),
               "by_customer": gettext_lazy("By customer")}
# Column, header, and the direction a first click sorts by (newest, most urgent first).
COLUMNS = (("id", gettext_lazy("Ref"), "-id"), ("title", gettext_lazy("Title"), "title"),
           ("status", gettext_lazy("Status"), "status"), ("priority", gettext_lazy("Priority"), "-priority"),
           ("updated_at", gettext_lazy("Updated"), "-updated_at"))
SLA_CHOICES = [("", gettext_lazy("Any")), ("at_risk", gettext_lazy("At risk")), ("breached", gettext_lazy("Breached")),
               ("running", gettext_lazy("Running")), ("paused", gettext_lazy("Paused")), ("met", gettext_lazy("Met")),
               ("none", gettext_lazy("No SLA"))]
PROPERTIES = ("status", "priority", "assignees", "project", "folder", "requester", "followers", "fields", "text")


# -- helpers ---------------------------------------------------------------------------------------


def _number(value: Any, default: int = 1) -> int:
    return int_or_default(value, default, maximum=999_999)


def _id(text: str) -> int:
    """An id from a form value; 0 (which matches nothing) for anything else."""
    return id_or_none(text) or 0


def item_url(item: Item) -> str:
    return reverse("web:item-detail", kwargs={"plural": PLURALS[Kind(item.kind)], "item_id": item.pk})


def _get_item_or_404(plural: str, item_id: str) -> Item:
    try:
        return queries.get_item(int(item_id), kind=KINDS[plural])
    except NotFound as exc:
        raise Http404(exc.message) from None


def _nouns(kind: str, count: int = 1) -> str:
    if kind == Kind.TASK:
        return ngettext("task", "tasks", count)
    return ngettext("ticket", "tickets", count)


# -- lists -----------------------------------------------------------------------------------------


def _resolve_people(raw: dict[str, str], errors: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Organization and requester filters as ids; the boxes accept a name or an email address too,
    and show names (links from the trees carry ids)."""
    values, shown = dict(raw), {"organization": raw["organization"], "requester": raw["requester"]}
    organization = raw["organization"]
    if (organization_id := id_or_none(organization)) is not None:
        try:
            shown["organization"] = customer_queries.get_organization(organization_id).name
        except NotFound:
            errors["organization"] = gettext("That organization no longer exists.")
    elif organization and organization != NONE:
        found = customer_queries.organization_by_name(organization)
        if found is None:
            errors["organization"] = gettext("There is no organization named “%(name)s”.") % {"name": organization}
        else:
            values["organization"] = str(found.pk)
    requester = raw["requester"]
    if (requester_id := id_or_none(requester)) is not None:
        try:
            shown["requester"] = customer_queries.get_customer(requester_id).email
        except NotFound:
            errors["requester"] = gettext("That customer no longer exists.")
    elif requester:
        try:
            customer = customer_queries.find_customer_by_email(parse_email(requester).key)
        except AddressError:
            customer = None
        if customer is None:
            errors["requester"] = gettext("No customer has the address “%(email)s”.") % {"email": requester}
        else:
            values["requester"] = str(customer.pk)
    return values, shown


def _tree(kind: str, view: str, data: QueryDict, settings: dict[str, Any], choices: Choices) -> dict[str, Any]:
    if view == "by_portfolio":
        nodes, unprojected = queries.portfolio_tree(kind, portfolios_enabled=settings["portfolios_enabled"],
                                                    projects=choices.projects, folders=choices.folders)
        for node in nodes:
            node.project_ids = ",".join(str(p.project.pk) for p in node.projects)  # type: ignore[attr-defined]
        return {"portfolios": nodes, "unprojected": unprojected,
                "portfolios_enabled": settings["portfolios_enabled"]}
    if view == "by_customer":
        page = _number(data.get("tree_page"))
        organizations, total = queries.customer_tree(kind, page=page, per_page=PAGE_SIZE)
        return {"organizations": organizations, "tree_page": page, "tree_more": total > page * PAGE_SIZE}
    return {}


def _assignee_filter(choices: Choices, me: int) -> list[tuple[str, list[tuple[str, str]]]]:
    return [("", [("", gettext("Anyone")), ("me", gettext("Me")), (NONE, gettext("Nobody"))]),
            (gettext("Agents"), [(str(a.pk), a.display_name) for a in choices.agents if a.pk != me]),
            (gettext("Teams"), [(f"team:{t.pk}", t.name) for t in choices.teams])]


def _list_context(kind: str, data: QueryDict, *, me: int, with_tree: bool = True, **extra: Any) -> dict[str, Any]:
    """Everything the list page (or its results fragment) shows for the query string `data`."""
    settings = get_settings()
    views = ["list", *[view for view in VIEWS if view in settings["enabled_views"]]]
    view = data.get("view") if data.get("view") in views else settings["default_view"]
    view = view if view in views else "list"
    raw = {name: search_term(data.get(name)) for name in FILTERS}
    errors: dict[str, str] = {}
    values, shown = _resolve_people(raw, errors)
    values["assignee"] = resolve_me(values["assignee"], me=me)
    sort = data.get("sort", "")
    sort = sort if sort in queries.SORTS else "-id"
    page = _number(data.get("page"))
    rows: list[Item] = []
    if not errors:
        try:
            rows = queries.item_page(kind, queries.ItemFilters.from_mapping(values), sort=sort,
                                     offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1, followers=False)
        except DomainError as exc:
            errors[exc.field if exc.field in FILTERS else "search"] = exc.message
    kept = {name: value for name, value in raw.items() if value}
    query = {"view": view, **kept, **({"sort": sort} if sort != "-id" else {})}
    named_views = workspace.views_for(me, kind)
    current_view = workspace.matching_view(named_views, query)
    marks = workspace.attention(rows[:PAGE_SIZE], agent_id=me)
    for row in rows[:PAGE_SIZE]:
        row.attention = marks[row.pk]  # type: ignore[attr-defined]
    tree_query = {"view": view, **{k: v for k, v in kept.items() if k not in ("organization", "project", "folder")},
                  **({"sort": sort} if sort != "-id" else {})}
    plural = PLURALS[Kind(kind)]
    choices = Choices.load(kind)
    columns = []
    for name, label, first in COLUMNS:
        current = sort.lstrip("-") == name
        target = ("-" + name if not sort.startswith("-") else name) if current else first
        columns.append({"label": label, "url": "?" + urlencode({**query, "sort": target}),
                        "aria_sort": ("descending" if sort.startswith("-") else "ascending") if current else ""})
    context = {
        "kind": kind, "plural": plural, "title": (current_view.name if current_view.saved else gettext(current_view.name)) if current_view
        else gettext(plural.capitalize()),
        "view": view, "current_view": current_view, "named_views": named_views, "saved_query": urlencode({k: v for k, v in query.items() if k != "view"}),
        "views": [(name, VIEW_LABELS[name], "?" + urlencode({**kept, "view": name})) for name in views],
        "items": rows[:PAGE_SIZE], "page": page, "errors": errors, "filters": raw, "shown": shown,
        "values": values, "sort": sort, "columns": columns, "choices": choices,
        "priorities": priority_choices(), "folders": choices.folder_choices(raw["project"], empty=gettext("Any folder")),
        "query": urlencode(query), "tree_query": urlencode(tree_query),
        "prev_url": "?" + urlencode({**query, "page": page - 1}) if page > 1 else "",
        "next_url": "?" + urlencode({**query, "page": page + 1}) if len(rows) > PAGE_SIZE else "",
        "first_row": (page - 1) * PAGE_SIZE + 1, "last_row": (page - 1) * PAGE_SIZE + len(rows[:PAGE_SIZE]),
        "assignee_filter": _assignee_filter(choices, me), "checked": set(), "sla_choices": SLA_CHOICES,
        "today": timezone.localdate(), **extra,
    }
    if with_tree:
        context.update(_tree(kind, view, data, settings, choices))
    return context


@require_GET
@agent_required
def item_index(request: AgentRequest, kind: str) -> HttpResponse:
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    context = _list_context(kind, request.GET, me=request.user.pk, with_tree=not partial)
    template = "web/items/list.html#results" if partial else "web/items/list.html"
    return render(request, template, context, status=422 if context["errors"] else 200)


def _bulk_changes(data: QueryDict, choices: Choices) -> tuple[BulkChanges, str]:
    """The change one bulk action asks for, and how to say it was done."""
    action = data.get("action", "")
    if action == "assign":
        value = data.get("assign_to", "")
        if not value:
            raise Invalid("assignee_required", gettext("Choose who to assign them to."), field="assign_to")
        if value == NONE:
            return BulkChanges(assignees=[]), gettext("unassigned")
        return BulkChanges(assignees=assignee_refs(value, field="assign_to")), gettext("assigned to %(name)s") % {"name": choices.agent_name(value)}
    if action == "status":
        key = data.get("status_to", "")
        if not key:
            raise Invalid("status_required", gettext("Choose a status."), field="status_to")
        label = next((status_label(status) for status in choices.statuses if status.key == key), key)
        return BulkChanges(status=key), gettext("set to %(status)s") % {"status": label}
    if action == "move":
        target = data.get("move_to", "")
        kind, _, number = target.partition(":")
        if target == NONE:
            return BulkChanges(project=None, folder=None), gettext("moved out of their project")
        if kind == "project" and number:
            project = queries.get_project(_id(number))
            return BulkChanges(project=project.pk, folder=None), gettext("moved to %(target)s") % {"target": project.name}
        if kind == "folder" and number:
            folder = queries.get_folder(_id(number))
            return (BulkChanges(project=folder.project_id, folder=folder.pk),
                    gettext("moved to %(target)s") % {"target": f"{folder.project.name} / {folder.name}"})
        raise Invalid("target_required", gettext("Choose a project or folder to move them to."), field="move_to")
    raise Invalid("unknown_action", gettext("Choose an action: assign, set status or move."), field="action")


@require_POST
@agent_required
def bulk_edit(request: AgentRequest, kind: str) -> HttpResponse:
    """Assign, set status or move the checked items, all or none, through `bulk_change`."""
    query = QueryDict(request.POST.get("query", ""))
    ids = {number for value in request.POST.getlist("items") if (number := id_or_none(value)) is not None}
    try:
        changes, done = _bulk_changes(request.POST, Choices.load(kind))
        items = list(queries.item_list(kind).filter(pk__in=ids)) if ids else []
        count = bulk_change(items, changes=changes, actor=actor(request))
    except DomainError as exc:
        context = _list_context(kind, query, me=request.user.pk, with_tree=not request.htmx,
                                bulk_error=exc.message, checked=ids)
        template = "web/items/list.html#results" if request.htmx else "web/items/list.html"
        return render(request, template, context, status=exc.status)
    message = gettext("%(count)s %(noun)s %(done)s.") % {"count": count, "noun": _nouns(kind, count), "done": done}
    if request.htmx:
        return render(request, "web/items/list.html#results",
                      _list_context(kind, query, me=request.user.pk, with_tree=False, bulk_message=message))
    messages.success(request, message)
    return redirect(f"{reverse(f'web:{kind}-list')}?{query.urlencode()}")


@require_GET
@agent_required
def folder_options(request: AgentRequest) -> HttpResponse:
    """The folders of one project, as the options of a Folder select that follows a Project select."""
    project = request.GET.get("project", "")
    folders = list(queries.folder_list(project=project)) if id_or_none(project) is not None else []
    return render(request, "web/items/new.html#folder-options",
                  {"folders": folders, "empty": request.GET.get("empty") or gettext("No folder")})


# -- create ----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@agent_required
def new_item(request: AgentRequest, kind: str) -> HttpResponse:
    form = NewItemForm(request.POST or None, kind=kind, choices=Choices.load(kind))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        create = submit_ticket if kind == Kind.TICKET else create_task
        try:
            item = create(ItemDraft(
                title=data["title"], description=data["description"],
                requester_email=data["requester_email"] or None, priority=data["priority"] or None,
                assignees=assignee_refs(data["assignee"]), project=optional_id(data["project"], field="project"),
                folder=optional_id(data["folder"], field="folder"), custom_fields=custom_values(form),
            ), actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc, aliases={"requester": "requester_email", "assignees": "assignee"})
        else:
            messages.success(request, (gettext("Task %(reference)s created.") if kind == Kind.TASK
                                      else gettext("Ticket %(reference)s created.")) % {"reference": item.reference})
            return redirect(item_url(item))
    return render(request, "web/items/new.html", {"form": form, "kind": kind, "plural": PLURALS[Kind(kind)]},
                  status=422 if request.method == "POST" else 200)


# -- the item page ---------------------------------------------------------------------------------


def duration(minutes: int) -> str:
    """90 → "1 h 30 min": how people say time spent."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _history(item: Item, choices: Choices) -> list[Line]:
    """The item's events as sentences with names (`deskhand.web.history`); the people and
    statuses the page loaded already are not read again."""
    customers = [row.customer for row in item.follower_rows if row.customer is not None]
    names = Names().know(agents=choices.agents, teams=choices.teams, statuses=choices.statuses,
                         customers=[*customers, *([item.requester] if item.requester else [])])
    return item_history(queries.item_events(item), kind=item.kind, names=names)


# nh3 writes every attribute as name="value", so inline images are found without parsing again.
_CID_SOURCE = re.compile(r'src="cid:([^"]*)"', re.IGNORECASE)
_UNDELIVERED = {"reply": gettext_lazy("Not delivered"), "acknowledgement": gettext_lazy("Acknowledgement not delivered")}


def _mail_html(message: Message, attachments: list[Attachment], *, remote_images: bool = False
               ) -> tuple[str, set[int]]:
    """The message's HTML for the page: sanitized once more (whoever stored it), remote images
    blocked unless asked for (message.remote_blocked counts them), `cid:` images pointed at their
    attachments' downloads. Also which attachments it shows inline."""
    by_cid = {a.content_id.strip().strip("<>").lower(): a for a in attachments if a.content_id}
    shown: set[int] = set()

    def point(match: re.Match[str]) -> str:
        attachment = by_cid.get(unescape(match.group(1)).strip().strip("<>").lower())
        if attachment is None:
            return 'src=""'
        shown.add(attachment.pk)
        return f'src="/attachments/{attachment.pk}"'

    if remote_images:
        html, blocked = sanitize_html(message.body_html), 0
    else:
        html, blocked = without_remote_images(message.body_html)
    message.remote_blocked = blocked  # type: ignore[attr-defined]
    return _CID_SOURCE.sub(point, html), shown


def _with_mail(conversation: list[Message], *, remote_images: int | None = None) -> list[Message]:
    """What the conversation shows of mail: the HTML (or the text), the quoted history, the original
    mail a message came from and the replies that were not delivered; two queries whatever its length.
    Remote images are blocked, except in the message `remote_images` names (for this view only)."""
    mail_ids = [message.pk for message in conversation if message.channel == Channel.EMAIL]
    originals = mail_queries.inbound_for_messages(mail_ids) if mail_ids else {}
    undelivered = mail_queries.undelivered_for_messages([message.pk for message in conversation]) if conversation else {}
    for message in conversation:
        attachments = list(message.attachments.all())
        message.remote_blocked = 0  # type: ignore[attr-defined]
        html, inline = (_mail_html(message, attachments, remote_images=message.pk == remote_images)
                        if message.body_html else ("", set()))
        message.html = mark_safe(html)  # type: ignore[attr-defined]  # sanitized just above
        # With the quotes stripped from the text, the page shows the new text; the whole mail (as
        # HTML when there is some) is one click away. Without quotes the HTML is the message.
        full, body = message.full_body.strip(), message.body.strip()
        message.quoted = bool(full)  # type: ignore[attr-defined]
        # The text behind the toggle is what the page does not show yet: the history after the new text.
        message.quoted_text = (  # type: ignore[attr-defined]
            full[len(body):].strip() if body and full.startswith(body) else full)
        message.files = [a for a in attachments if a.pk not in inline]  # type: ignore[attr-defined]
        message.original = originals.get(message.pk)  # type: ignore[attr-defined]
        message.not_delivered = [  # type: ignore[attr-defined]
            {"what": _UNDELIVERED.get(row.kind, gettext("%(kind)s mail not delivered") % {"kind": row.kind.capitalize()}), "to": row.to,
             "error": row.last_error or gettext("refused")} for row in undelivered.get(message.pk, [])]
    return conversation


def _detail_context(item: Item, *, parts: tuple[str, ...] = ("all",), remote_images: int | None = None,
                    menu: bool = False, **extra: Any) -> dict[str, Any]:
    """What the item page shows; `parts` narrows it for fragments (properties, time, history). The
    project menu is loaded when it is opened (`project_menu`), or here when asked for (`menu`, the
    page without htmx) or when a move was refused (it stays open with the error)."""
    everything = "all" in parts
    choices = Choices.load(item.kind, places=False)
    context: dict[str, Any] = {"item": item, "plural": PLURALS[Kind(item.kind)], "choices": choices,
                               "priorities": priority_choices(), "errors": {}, "oob": not everything,
                               "sla": item_sla(item), "survey": latest_answer(item),
                               "linked_tasks": list(item.tasks.select_related("status").order_by("id"))
                               if item.kind == Kind.TICKET and everything else []}
    if everything or "properties" in parts:
        context["fields_form"] = CustomFieldsForm(kind=item.kind, values=item.custom_fields)
        if menu or {"project", "folder"} & set(extra.get("errors") or {}):
            context["menu"] = queries.project_menu(item)
        assigned = {f"agent:{a.agent_id}" if a.agent_id else f"team:{a.team_id}" for a in item.assignee_rows}
        context["assign_options"] = [
            {"ref": ref, "id": ref.replace(":", "-"), "label": label, "team": ref.startswith("team:"),
             "checked": ref in assigned}
            for ref, label in [(f"agent:{a.pk}", a.display_name) for a in choices.agents]
            + [(f"team:{t.pk}", t.name) for t in choices.teams]]
        followed = {f.agent_id for f in item.follower_rows if f.agent_id}
        context["agents_to_follow"] = [agent for agent in choices.agents if agent.pk not in followed]
    if everything or "time" in parts:
        entries = queries.time_entry_list(queries.TimeFilters(item=str(item.pk)))
        context["entries"] = list(entries[:100])
        context["total"], billable = queries.total_minutes(entries)
        context["total_text"], context["billable_text"] = duration(context["total"]), duration(billable)
        context["time_form"] = TimeForm(initial={"date": timezone.localdate().isoformat(), "billable": True})
    if everything or "history" in parts:
        context["history"] = _history(item, choices)
    if everything:
        context["conversation"] = _with_mail(list(queries.conversation(item)), remote_images=remote_images)
        first = context["conversation"][0] if context["conversation"] else None
        # A ticket by email has the mail's text as its description: show it once, in the mail.
        context["description_in_conversation"] = bool(
            first is not None and first.channel == "email" and item.description
            and first.body.strip() == item.description.strip())
        context["recipients"] = customer_recipients(item)
        copies = copies_for_messages([m.pk for m in context["conversation"] if m.kind == MessageKind.REPLY])
        for message in context["conversation"]:
            message.copies = copies.get(message.pk)  # a reply's Cc and Bcc
    context.update(extra)
    return context


# Remote images are removed from mail by the sanitizer, not by the policy: the page must let the ones
# an agent asks to load (htmx swaps them into this page, under this page's policy) through.
REMOTE_IMAGES_CSP = {"img-src": ("https:", "http:")}


def _detail(request: AgentRequest, item: Item, *, status: int = 200, **extra: Any) -> HttpResponse:
    extra.setdefault("reply_box", reply_box(request.user, item))  # canned responses, macros, draft, signature
    response = render(request, "web/items/detail.html", _detail_context(item, **extra), status=status)
    response.csp_extra = REMOTE_IMAGES_CSP  # type: ignore[attr-defined]
    return response


@require_GET
@agent_required
def item_detail(request: AgentRequest, plural: str, item_id: str) -> HttpResponse:
    """The item page; a task opened under /tickets (or the reverse) moves to its own address."""
    try:
        item = queries.get_item(int(item_id))
    except NotFound as exc:
        raise Http404(exc.message) from None
    if item.kind != KINDS[plural]:
        return redirect(item_url(item))
    # Opening the page reads what customers wrote (for this agent) and tells the others who is here.
    open_item(item, agent_id=request.user.pk)
    # And the bell's notifications about this item are read: the agent is looking at it.
    mark_item_read(item.pk, agent_id=request.user.pk)
    return _detail(request, item, menu=request.GET.get("menu") == "project",
                   present=workspace.present(item, agent_id=request.user.pk))


@require_GET
@agent_required
def project_menu(request: AgentRequest, plural: str, item_id: str) -> HttpResponse:
    """The project and folder menu of the item page, loaded when it is opened (htmx); without
    htmx, the item page with the menu open."""
    item = _get_item_or_404(plural, item_id)
    if not request.htmx:
        return redirect(f"{item_url(item)}?menu=project#project-menu")
    return render(request, "web/items/detail.html#project-menu",
                  {"item": item, "plural": plural, "menu": queries.project_menu(item), "errors": {}})


def _property_changes(request: AgentRequest, item: Item, name: str, fields_form: CustomFieldsForm) -> ItemChanges:
    data = request.POST
    if name == "status":
        return ItemChanges(status=data.get("status", ""))
    if name == "priority":
        return ItemChanges(priority=data.get("priority", ""))
    if name == "assignees":
        return ItemChanges(assignees=assignee_refs(data.getlist("assignees")))
    if name == "project":
        project = optional_id(data.get("project"), field="project")
        if "folder" in data:  # the project menu moves to a project and one of its folders at once
            return ItemChanges(project=project, folder=optional_id(data.get("folder"), field="folder"))
        return ItemChanges(project=project)
    if name == "folder":
        return ItemChanges(folder=optional_id(data.get("folder"), field="folder"))
    if name == "requester":
        return ItemChanges(requester_email=data.get("requester_email", ""))
    if name == "text":
        return ItemChanges(title=data.get("title", ""), description=data.get("description", ""))
    if name == "fields":
        if not fields_form.is_valid():
            raise Invalid("invalid_custom_fields", gettext("Check the fields."), field="fields")
        return ItemChanges(custom_fields=custom_values(fields_form))
    # Followers: add a customer by address or an agent, or remove one; the service sees the whole list.
    current = [FollowerRef(kind="customer", id=f.customer_id) if f.customer_id
               else FollowerRef(kind="agent", id=f.agent_id) for f in item.follower_rows]
    remove = data.get("remove", "")
    if remove:
        kind, _, number = remove.partition(":")
        return ItemChanges(followers=[f for f in current if (f.kind, str(f.id)) != (kind, number)])
    if data.get("add_agent"):
        agent = FollowerRef(kind="agent", id=parse_id(data["add_agent"], field="followers", what="Agent"))
        return ItemChanges(followers=[*current, agent])
    return ItemChanges(followers=[*current, FollowerRef(kind="customer", email=data.get("add_email", ""))])


@require_POST
@agent_required
def edit_property(request: AgentRequest, plural: str, item_id: str, name: str) -> HttpResponse:
    """One property changed in place: htmx gets the properties card (and the history) back."""
    if name not in PROPERTIES:
        raise Http404
    item = _get_item_or_404(plural, item_id)
    fields_form = CustomFieldsForm(request.POST if name == "fields" else None, kind=item.kind,
                                   values=item.custom_fields)
    errors: dict[str, str] = {}
    try:
        change_item(item, changes=_property_changes(request, item, name, fields_form), actor=actor(request))
    except DomainError as exc:
        field = {"requester_email": "requester"}.get(exc.field or "", exc.field or name)
        if name == "fields":
            if exc.field != "fields":
                add_domain_error(fields_form, exc)
        elif name == "text":
            errors["title"] = exc.message
        else:
            errors[field if field in PROPERTIES else name] = exc.message
    failed = bool(errors) or bool(fields_form.errors)
    item = queries.get_item(item.pk)
    typed = {key: request.POST.get(key) for key in ("requester_email", "add_email")} if failed else {}
    extra: dict[str, Any] = {"errors": errors, "changed": name, "typed": typed,
                             **({"fields_form": fields_form} if fields_form.errors else {})}
    if request.htmx:
        context = _detail_context(item, parts=("properties", "history"), **extra)
        return render(request, "web/items/detail.html#property-update", context, status=422 if failed else 200)
    if failed:
        return _detail(request, item, status=422, **extra)
    messages.success(request, gettext("Saved."))
    return redirect(item_url(item))


@require_POST
@agent_required
def post_message(request: AgentRequest, plural: str, item_id: str, kind: str) -> HttpResponse:
    """A reply (to the requester and customer followers) or an internal note, with files."""
    item = _get_item_or_404(plural, item_id)
    data = request.POST
    body, cc, bcc = data.get("body", ""), data.get("cc", "")[:2000], data.get("bcc", "")[:2000]
    files = [NewAttachment(name=upload.name or "", content=upload, content_type=upload.content_type or "")
             for upload in request.FILES.getlist("attachments")]
    # Markdown, Cc/Bcc, the signature and "Send and set": deskhand/replies/services.py.
    reply = Reply(body=body, cc=split_addresses(cc), bcc=split_addresses(bcc), then=data.get("then", "")[:20],
                  signature=data.get("signature") == "1", attachments=files)
    try:
        message = send_reply(item, reply=reply, kind=kind, actor=actor(request))
    except DomainError as exc:
        field = exc.field if exc.field in ("attachments", "cc", "bcc", "then") else "body"
        return _detail(request, item, status=exc.status, message_error={kind: {"field": field, "message": exc.message}},
                       message_input={kind: body, "cc": cc, "bcc": bcc})
    if kind == MessageKind.REPLY:
        sent = ", ".join(message.recipients) or gettext("nobody (no requester or customer followers)")
        copies = split_addresses(cc)
        if reply.then:
            item.refresh_from_db()
        text = (gettext("Reply sent to %(to)s (Cc %(cc)s).") if copies else gettext("Reply sent to %(to)s.")) % {
            "to": sent, "cc": ", ".join(copies)}
        if reply.then:
            text += " " + (gettext("The task is now %(status)s.") if item.kind == Kind.TASK
                           else gettext("The ticket is now %(status)s.")) % {"status": status_label(item.status)}
        messages.success(request, text)
    else:
        messages.success(request, gettext("Note added."))
    return redirect(f"{item_url(item)}#message-{message.pk}")


@require_POST
@agent_required
def log_item_time(request: AgentRequest, plural: str, item_id: str) -> HttpResponse:
    item = _get_item_or_404(plural, item_id)
    form = TimeForm(request.POST)
    if form.is_valid():
        try:
            log_time(item, minutes=form.minutes_value(), date=form.cleaned_data["date"] or None,
                     note=form.cleaned_data["note"], billable=form.cleaned_data["billable"], actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
    failed = bool(form.errors)
    extra: dict[str, Any] = {"time_form": form} if failed else {}
    if request.htmx:
        context = _detail_context(item, parts=("time", "history"), **extra)
        return render(request, "web/items/detail.html#time-update", context, status=422 if failed else 200)
    if failed:
        return _detail(request, item, status=422, **extra)
    messages.success(request, gettext("Time logged."))
    return redirect(f"{item_url(item)}#time")


def _original(plural: str, item_id: str, message_id: str) -> tuple[Item, Message, InboundEmail]:
    item = _get_item_or_404(plural, item_id)
    message = queries.conversation(item).filter(pk=int(message_id)).first()
    inbound = mail_queries.inbound_for_messages([message.pk]).get(message.pk) if message else None
    if message is None or inbound is None:
        raise Http404(gettext("This message did not come by email."))
    return item, message, mail_queries.get_inbound(inbound.pk)


@require_GET
@agent_required
def message_original(request: AgentRequest, plural: str, item_id: str, message_id: str) -> HttpResponse:
    """The mail a message came from, as it arrived: its raw headers, and the whole .eml to download."""
    item, message, inbound = _original(plural, item_id, message_id)
    base = f"{item_url(item)}/messages/{message.pk}/original"
    return render(request, "web/items/original.html", {
        **original_context(inbound, eml_url=f"{base}.eml"), "item": item, "message": message,
        "plural": PLURALS[Kind(item.kind)], "back": f"{item_url(item)}#message-{message.pk}"})


@require_GET
@agent_required
def message_remote_images(request: AgentRequest, plural: str, item_id: str, message_id: str) -> HttpResponse:
    """One message again with its remote images, for this view only: nothing is stored, the next
    visit blocks them again. htmx swaps the message; without JavaScript it is the whole page."""
    item = _get_item_or_404(plural, item_id)
    message = queries.conversation(item).filter(pk=int(message_id)).first()
    if message is None:
        raise Http404(gettext("No such message on this item."))
    if not request.htmx:
        return _detail(request, item, remote_images=message.pk)
    conversation = _with_mail([message], remote_images=message.pk)
    return render(request, "web/items/detail.html#message", {
        "item": item, "plural": PLURALS[Kind(item.kind)], "message": conversation[0]})


@require_GET
@agent_required
def message_original_eml(request: AgentRequest, plural: str, item_id: str, message_id: str) -> FileResponse:
    return eml_response(_original(plural, item_id, message_id)[2])


@require_GET
@agent_required
def download_attachment(request: AgentRequest, attachment_id: str) -> FileResponse:
    """Always a download (never shown inline), so an uploaded page or script cannot run here."""
    try:
        attachment = queries.get_attachment(int(attachment_id))
    except NotFound as exc:
        raise Http404(exc.message) from None
    try:
        handle, size = open_stored(attachment.file)
    except OSError:  # a row without its file, or a file the storage lost
        raise Http404(gettext("The file of this attachment is missing.")) from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.name,
                            content_type=attachment.content_type or "application/octet-stream")
    response["Content-Length"] = size
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, max-age=0"
    return response


@require_POST
@agent_required
def new_task_from_ticket(request: AgentRequest, item_id: str) -> HttpResponse:
    """*Create task* on a ticket page: a task with the ticket's requester and organization."""
    ticket = _get_item_or_404("tickets", item_id)
    title = request.POST.get("title", "")
    try:
        task = create_task_from(ticket, ItemDraft(title=title), actor=actor(request))
    except DomainError as exc:
        return _detail(request, queries.get_item(ticket.pk), status=exc.status, task_error=exc.message,
                       task_title=title)
    messages.success(request, gettext("Task %(task)s created from %(ticket)s.") % {"task": task.reference, "ticket": ticket.reference})
    return redirect(item_url(task))
