"""Administration → Work: the ticket and task workflows, the views and the attachment settings."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_POST

from deskhand.config.queries import VIEWS, get_settings
from deskhand.config.services import update_settings
from deskhand.core.errors import DomainError
from deskhand.core.inputs import UNSET
from deskhand.web.access import actor, admin_required
from deskhand.web.forms import add_domain_error
from deskhand.web.http import AgentRequest
from deskhand.work import queries
from deskhand.work.inputs import StatusChanges
from deskhand.work.models import Category, Kind, Status
from deskhand.work.services import statuses as services

MB = 1024 * 1024
VIEW_LABELS = {"by_portfolio": gettext_lazy("By portfolio"), "by_customer": gettext_lazy("By customer")}
VIEW_CHOICES = [(view, VIEW_LABELS.get(view, view)) for view in VIEWS]
BUILT_IN = set(services.BUILT_IN)


class StatusForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Status name"), max_length=60)
    key = forms.CharField(label=gettext_lazy("Key"), required=False, max_length=40,
                          help_text=gettext_lazy("Used by the API and rules; made from the name when empty."))
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=Category.choices, initial=Category.OPEN,
                                 help_text=gettext_lazy("What the status means to reports, SLA clocks and the portal."))

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{kind}_status_%s")
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["label"].label = gettext("New %(kind)s status") % {"kind": pgettext("kind", kind)}

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"].strip()
        return key or slugify(self.cleaned_data.get("label", "")).replace("-", "_")[:40]


class ViewsForm(forms.Form):
    enabled_views = forms.MultipleChoiceField(
        label=gettext_lazy("Views of the Tickets and Tasks lists"), choices=VIEW_CHOICES, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Keep at least one view.")})
    default_view = forms.ChoiceField(label=gettext_lazy("Default view"), choices=VIEW_CHOICES)
    portfolios_enabled = forms.BooleanField(
        label=gettext_lazy("Use portfolios"), required=False,
        help_text=gettext_lazy("Off: projects stand on their own, without the portfolio level above them."))


class AttachmentsForm(forms.Form):
    max_mb = forms.DecimalField(label=gettext_lazy("Largest attachment (MB)"), min_value=Decimal("0.01"),
                                max_value=Decimal(1024), decimal_places=2)
    blocked = forms.CharField(
        label=gettext_lazy("Blocked file types"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("File extensions, separated by spaces or commas, such as exe bat js. Files of these types "
                  "are refused."))


def _workflows(*, status_forms: dict[str, StatusForm] | None = None) -> list[dict[str, Any]]:
    by_kind: dict[str, list[Status]] = {}
    for status in queries.status_list():
        by_kind.setdefault(status.kind, []).append(status)
    return [{"kind": kind, "title": gettext("%(kind)s workflow") % {"kind": label}, "statuses": by_kind.get(kind, []),
             "form": (status_forms or {}).get(kind) or StatusForm(kind=kind)}
            for kind, label in Kind.choices]


def _render(request: AgentRequest, *, status_forms: dict[str, StatusForm] | None = None,
            status_error: dict[str, Any] | None = None, views_form: ViewsForm | None = None,
            attachments_form: AttachmentsForm | None = None, status: int = 200) -> HttpResponse:
    settings = get_settings()
    mb = Decimal(settings["attachment_max_bytes"]) / MB
    return render(request, "web/admin/work.html", {
        "workflows": _workflows(status_forms=status_forms), "status_error": status_error or {},
        "built_in": BUILT_IN, "categories": Category.choices,
        "views_form": views_form or ViewsForm(initial={key: settings[key] for key in (
            "enabled_views", "default_view", "portfolios_enabled")}),
        "attachments_form": attachments_form or AttachmentsForm(initial={
            "max_mb": mb.quantize(Decimal(1)) if mb == mb.to_integral() else mb.quantize(Decimal("0.01")),
            "blocked": " ".join(settings["blocked_attachment_extensions"])}),
    }, status=status)


@require_GET
@admin_required
def work_settings(request: AgentRequest) -> HttpResponse:
    return _render(request)


@require_POST
@admin_required
def add_status(request: AgentRequest, kind: str) -> HttpResponse:
    if kind not in Kind.values:
        raise Http404(gettext("No such workflow."))
    form = StatusForm(request.POST, kind=kind)
    if form.is_valid():
        data = form.cleaned_data
        try:
            created = services.create_status(kind=kind, key=data["key"], label=data["label"],
                                             category=data["category"], actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
            return _render(request, status_forms={kind: form}, status=exc.status)
        messages.success(request, gettext("Status %(label)s added to the %(kind)s workflow.") % {"label": created.label, "kind": kind})
        return redirect("web:admin-work")
    return _render(request, status_forms={kind: form}, status=422)


def _get_status(status_id: int) -> Status:
    status = queries.status_list().filter(pk=status_id).first()
    if status is None:
        raise Http404(gettext("No such status."))
    return status


@transaction.atomic
def _move(status: Status, offset: int, request: AgentRequest) -> None:
    """Swap with the neighbour, then number the workflow 0, 1, 2… (positions may have gaps or ties)."""
    order = list(queries.status_list(status.kind))
    index = next(i for i, s in enumerate(order) if s.pk == status.pk)
    target = index + offset
    if not 0 <= target < len(order):
        return
    order[index], order[target] = order[target], order[index]
    for position, each in enumerate(order):
        if each.position != position:
            services.update_status(each, changes=StatusChanges(position=position), actor=actor(request))


@require_POST
@admin_required
def change_status(request: AgentRequest, status_id: int) -> HttpResponse:
    """One status row: save its label and category, move it up or down, or remove it."""
    status = _get_status(status_id)
    action = request.POST.get("action", "save")
    try:
        if action == "delete":
            services.delete_status(status, actor=actor(request))
            messages.success(request, gettext("Status %(label)s removed from the %(kind)s workflow.") % {"label": status.label, "kind": status.kind})
        elif action in ("up", "down"):
            _move(status, -1 if action == "up" else 1, request)
        else:
            category = request.POST.get("category", UNSET)
            changes = StatusChanges(label=request.POST.get("label", ""), category=category)
            services.update_status(status, changes=changes, actor=actor(request))
            messages.success(request, gettext("Status %(label)s saved.") % {"label": status.label})
    except DomainError as exc:
        return _render(request, status_error={"id": status.pk, "message": exc.message,
                                              "label": request.POST.get("label")}, status=exc.status)
    return redirect(reverse("web:admin-work") + f"#{status.kind}-workflow")


@require_POST
@admin_required
def save_views(request: AgentRequest) -> HttpResponse:
    form = ViewsForm(request.POST)
    if form.is_valid():
        try:
            update_settings(dict(form.cleaned_data), actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("View settings saved."))
            return redirect("web:admin-work")
    return _render(request, views_form=form, status=422)


@require_POST
@admin_required
def save_attachments(request: AgentRequest) -> HttpResponse:
    form = AttachmentsForm(request.POST)
    if form.is_valid():
        extensions = [part for part in re.split(r"[\s,;]+", form.cleaned_data["blocked"]) if part]
        try:
            update_settings({"attachment_max_bytes": int(form.cleaned_data["max_mb"] * MB),
                             "blocked_attachment_extensions": extensions}, actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc, aliases={"attachment_max_bytes": "max_mb",
                                                 "blocked_attachment_extensions": "blocked"})
        else:
            messages.success(request, gettext("Attachment settings saved."))
            return redirect("web:admin-work")
    return _render(request, attachments_form=form, status=422)
