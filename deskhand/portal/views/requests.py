"""The signed-in customer's requests: the list (by the visibility rule), a new request, and a
request page with the public conversation, a reply box, following and "Mark as solved". Every
read goes through `work.queries.portal_items`; anything outside it is a 404."""

from __future__ import annotations

import contextlib
from typing import Any

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskhand.accounts.models import CustomerAccount
from deskhand.core.actors import Actor
from deskhand.core.errors import DomainError, NotFound
from deskhand.core.numbers import id_or_none
from deskhand.portal.sessions import current_account, customer_required
from deskhand.webforms.services import portal_forms
from deskhand.work import queries
from deskhand.work.files import open_stored
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Category, Channel, Item, MessageKind
from deskhand.work.queries import PortalTab, PortalViewer
from deskhand.work.services.items import add_follower, mark_solved, remove_customer_follower
from deskhand.work.services.messages import NewAttachment, add_message, submit_request

PAGE = 25
MAX_FILES = 10
TAB_LABELS = {PortalTab.MINE: gettext_lazy("My requests"), PortalTab.FOLLOWED: gettext_lazy("Followed"),
              PortalTab.ORGANIZATION: gettext_lazy("My organization")}
STATUS_LABELS = {Category.NEW: pgettext_lazy("request status", "New"),
                 Category.OPEN: pgettext_lazy("request status", "Open"),
                 Category.PENDING: pgettext_lazy("request status", "Waiting for you"),
                 Category.DONE: pgettext_lazy("request status", "Solved")}


class RequestForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=100_000,
                                  widget=forms.Textarea(attrs={"rows": 8}))


class ReplyForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Your reply"), max_length=100_000,
                           widget=forms.Textarea(attrs={"rows": 5}))


def _viewer(request: HttpRequest) -> tuple[CustomerAccount, PortalViewer]:
    account = current_account(request)
    assert account is not None  # customer_required
    return account, PortalViewer(customer=account.customer, verified=account.verified_at is not None)


def _actor(account: CustomerAccount) -> Actor:
    return Actor.customer(account.customer.email)


def _files(request: HttpRequest) -> list[NewAttachment]:
    files = request.FILES.getlist("attachments")[:MAX_FILES + 1]
    if len(files) > MAX_FILES:
        raise DomainError("too_many_files", _("Attach at most %(count)s files.") % {"count": MAX_FILES},
                          field="attachments")
    return [NewAttachment(name=f.name or "file", content=f, content_type=f.content_type or "") for f in files]


def home_context(request: HttpRequest, viewer: PortalViewer) -> dict[str, Any]:
    """The list page's context for a customer (or an agent previewing as one)."""
    tabs = queries.portal_tabs(viewer)
    wanted = request.GET.get("tab", "")
    tab = next((t for t in tabs if t.value == wanted), PortalTab.ALL)
    search = request.GET.get("q", "")[:200]
    status = request.GET.get("status", "")
    status = status if status in STATUS_LABELS else ""
    page = max(1, min(id_or_none(request.GET.get("page", "1")) or 1, queries.MAX_PORTAL_PAGE))
    rows, more = queries.portal_page(viewer, tab=tab, search=search, status=status, page=page, per_page=PAGE)
    return {"customer": viewer.customer, "rows": rows, "more": more, "page": page, "tab": tab,
            "tabs": [(t, TAB_LABELS[t]) for t in tabs], "search": search, "status": status,
            "statuses": STATUS_LABELS.items(), "status_labels": STATUS_LABELS, "rule": queries.portal_rule(viewer)}


@require_GET
@customer_required
def home(request: HttpRequest) -> HttpResponse:
    account, viewer = _viewer(request)
    return render(request, "portal/home.html", {"account": account, **home_context(request, viewer)})


@require_http_methods(["GET", "POST"])
@customer_required
def new_request(request: HttpRequest) -> HttpResponse:
    account, _viewer_ = _viewer(request)
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            files = _files(request)
            item = submit_request(ItemDraft(title=form.cleaned_data["title"], requester=account.customer),
                                  body=form.cleaned_data["description"], attachments=files, channel=Channel.PORTAL,
                                  actor=_actor(account))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("portal:request", item_id=item.pk)
    return render(request, "portal/new_request.html", {"form": form, "account": account, "forms": portal_forms()},
                  status=422 if request.method == "POST" else 200)


def request_or_404(viewer: PortalViewer, item_id: int) -> Item:
    try:
        return queries.portal_item(viewer, item_id)
    except NotFound:
        raise Http404(_("There is no such request.")) from None


def request_context(viewer: PortalViewer, item: Item) -> dict[str, Any]:
    """The request page's context for a customer (or an agent previewing as one): the public
    conversation only."""
    return {"item": item, "messages": queries.conversation(item, include_notes=False),
            "following": item.followers.filter(customer=viewer.customer).exists(),
            "mine": item.requester_id == viewer.customer.pk, "done": item.status.category == Category.DONE,
            "status_labels": STATUS_LABELS}


def _page(request: HttpRequest, account: CustomerAccount, viewer: PortalViewer, item: Item,
          form: ReplyForm | None = None, status: int = 200) -> HttpResponse:
    return render(request, "portal/request.html", {
        "account": account, "form": form or ReplyForm(), **request_context(viewer, item)}, status=status)


@require_http_methods(["GET", "POST"])
@customer_required
def request_page(request: HttpRequest, item_id: int) -> HttpResponse:
    account, viewer = _viewer(request)
    item = request_or_404(viewer, item_id)
    if request.method == "GET":
        return _page(request, account, viewer, item)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            add_message(item, kind=MessageKind.CUSTOMER, body=form.cleaned_data["body"], attachments=_files(request),
                        author_customer=account.customer, channel=Channel.PORTAL, actor=_actor(account))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("portal:request", item_id=item.pk)
    return _page(request, account, viewer, item, form=form, status=422)


@require_POST
@customer_required
def follow(request: HttpRequest, item_id: int) -> HttpResponse:
    account, viewer = _viewer(request)
    item = request_or_404(viewer, item_id)
    if request.POST.get("follow") == "off":
        with contextlib.suppress(DomainError):  # the requester's own request: nothing to do
            remove_customer_follower(item, customer=account.customer, actor=_actor(account))
    else:
        add_follower(item, customer=account.customer, actor=_actor(account))
    return redirect("portal:request", item_id=item.pk)


@require_POST
@customer_required
def solve(request: HttpRequest, item_id: int) -> HttpResponse:
    account, viewer = _viewer(request)
    item = request_or_404(viewer, item_id)
    if item.requester_id != account.customer_id:
        raise Http404(_("Only the requester marks a request solved."))
    mark_solved(item, actor=_actor(account))
    return redirect("portal:request", item_id=item.pk)


@require_GET
@customer_required
def attachment(request: HttpRequest, item_id: int, attachment_id: int) -> HttpResponseBase:
    """A file of the public conversation of a request the customer may see."""
    _account, viewer = _viewer(request)
    item = request_or_404(viewer, item_id)
    try:
        found = queries.get_attachment(attachment_id)
    except NotFound:
        raise Http404(_("There is no such file.")) from None
    if found.message.item_id != item.pk or found.message.kind == MessageKind.NOTE:
        raise Http404(_("There is no such file."))
    try:
        handle, size = open_stored(found.file)
    except OSError:  # a row without its file, or a file the storage lost
        raise Http404(_("There is no such file.")) from None
    response = FileResponse(handle, as_attachment=True, filename=found.name, content_type="application/octet-stream")
    response["Content-Length"] = size
    response["X-Content-Type-Options"] = "nosniff"
    return response
