"""Timesheets: time entries with filters and totals, logging time on an item, editing and deleting
one's own entries, and the CSV export of what the filters select."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from deskhand.agents.queries import agent_list
from deskhand.core.csvsafe import csv_lines
from deskhand.core.errors import DomainError, Forbidden, Invalid, NotFound
from deskhand.core.numbers import id_or_none
from deskhand.customers import queries as customer_queries
from deskhand.web.access import actor, agent_required, safe_next
from deskhand.web.forms import add_domain_error, choice_field
from deskhand.web.forms_items import MinutesField
from deskhand.web.http import AgentRequest
from deskhand.work import queries
from deskhand.work.inputs import TimeChanges
from deskhand.work.models import Item, TimeEntry
from deskhand.work.services import timesheets as services

ENTRIES_PAGE = 50
TOTAL_ROWS = 25
ORGANIZATION_PICKER = {"list": "organization-names", "autocomplete": "off", "hx-get": reverse_lazy("web:organization-options"),
                       "hx-trigger": "input changed delay:200ms, focus once", "hx-target": "#organization-names"}
# ASCII: `\d` alone also matches Arabic-Indic and other digits.


def duration(minutes: int) -> str:
    """90 → "1h 30m"; what people read faster than a number of minutes."""
    hours, rest = divmod(int(minutes or 0), 60)
    if hours and rest:
        return f"{hours}h {rest}m"
    return f"{hours}h" if hours else f"{rest}m"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class EntryForm(forms.Form):
    minutes = MinutesField()
    date = forms.DateField(label=gettext_lazy("Date"), widget=DateInput(), input_formats=["%Y-%m-%d"])
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)
    billable = forms.BooleanField(label=gettext_lazy("Billable"), required=False, initial=True)


class LogTimeForm(EntryForm):
    item = forms.CharField(label=gettext_lazy("Item"), max_length=40, help_text=gettext_lazy("Its reference, such as #12."),
                           widget=forms.TextInput(attrs={"placeholder": "#12", "autocomplete": "off"}))
    field_order = ["item", "minutes", "date", "note", "billable"]

    def clean_item(self) -> Item:
        match = queries.REFERENCE.match(self.cleaned_data["item"].strip())
        if not match:
            raise forms.ValidationError(gettext("Enter an item reference, such as #12."))
        try:
            return queries.get_item(int(match.group(1)))
        except NotFound:
            raise forms.ValidationError(f"There is no ticket or task #{match.group(1)}.") from None


class TimeFilterForm(forms.Form):
    data: QueryDict  # always a query string: the timesheet's filters
    agent = forms.ChoiceField(label=gettext_lazy("Agent"), required=False)
    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput(), input_formats=["%Y-%m-%d"])
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=DateInput(), input_formats=["%Y-%m-%d"])
    project = forms.ChoiceField(label=gettext_lazy("Project"), required=False)
    organization = forms.CharField(label=gettext_lazy("Organization"), required=False, max_length=2000,
                                   widget=forms.TextInput(attrs=ORGANIZATION_PICKER))
    item = forms.CharField(label=gettext_lazy("Item"), required=False, max_length=40,
                           widget=forms.TextInput(attrs={"placeholder": "#12", "size": 6}))
    billable = forms.ChoiceField(label=gettext_lazy("Billable"), required=False, choices=[
        ("", gettext("Billable or not")), ("yes", gettext("Billable")), ("no", gettext("Not billable"))])

    def __init__(self, data: QueryDict) -> None:
        super().__init__(data, auto_id="filter_%s")
        choice_field(self, "agent").choices = [("", gettext("Everyone"))] + [(str(a.pk), a.display_name) for a in agent_list()]
        choice_field(self, "project").choices = [("", gettext("Any project")), (queries.NONE, gettext("No project"))] + [
            (str(p.pk), p.name) for p in queries.project_list()]

    def clean_organization(self) -> str:
        """An organization name (or an id, from links); empty means any."""
        text = self.cleaned_data["organization"].strip()
        if not text:
            return ""
        if (number := id_or_none(text)) is not None:
            return str(number)
        if text.lower() in ("no organization", queries.NONE):
            return queries.NONE
        organization = customer_queries.organization_by_name(text)
        if organization is None:
            raise forms.ValidationError(gettext("There is no organization named “%(name)s”.") % {"name": text})
        return str(organization.pk)

    def time_filters(self) -> queries.TimeFilters:
        data = self.cleaned_data
        return queries.TimeFilters(
            agent=data["agent"], item=data["item"].strip(), project=data["project"],
            organization=data["organization"], billable=data["billable"],
            date_from=data["date_from"].isoformat() if data["date_from"] else "",
            date_to=data["date_to"].isoformat() if data["date_to"] else "",
        )


def filtered_entries(form: TimeFilterForm) -> QuerySet[TimeEntry] | None:
    """The entries the filter form selects, or None (with the form's errors) when it is wrong."""
    if not form.is_valid():
        return None
    try:
        return queries.time_entry_list(form.time_filters())
    except Invalid as exc:
        add_domain_error(form, exc)
        return None


def _organization_name(form: TimeFilterForm) -> None:
    """Links filter by organization id; the box shows the name."""
    value = form.data.get("organization", "")
    if (number := id_or_none(value)) is not None:
        organization = customer_queries.organization_list().filter(pk=number).first()
        if organization is not None:
            form.data = form.data.copy()
            form.data["organization"] = organization.name


def may_change(request: AgentRequest, entry: TimeEntry) -> bool:
    """Shows or hides the edit links; the service has the last word."""
    return entry.agent_id == request.user.pk or request.user.is_admin


TOTALS = ((gettext_lazy("By item"), "item"), (gettext_lazy("By project"), "project"),
          (gettext_lazy("By organization"), "organization"))


def _totals(title: str, entries: QuerySet[TimeEntry], by: str) -> dict[str, Any]:
    rows = queries.time_totals(entries, by=by)
    return {"title": title, "by": by, "count": len(rows), "rows": [
        {"label": row.label, "key": row.key, "minutes": duration(row.minutes),
         "billable": duration(row.billable_minutes)} for row in rows[:TOTAL_ROWS]]}


def _render(request: AgentRequest, *, log_form: LogTimeForm | None = None, status: int = 200) -> HttpResponse:
    filter_form = TimeFilterForm(request.GET)
    entries = filtered_entries(filter_form)
    context: dict[str, Any] = {
        "filter_form": filter_form, "query": request.GET.urlencode(),
        "log_form": log_form or LogTimeForm(initial={"date": timezone.localdate(), "billable": True},
                                            auto_id="log_%s"),
        "next": request.get_full_path(),
    }
    if entries is None:
        status = 422 if status == 200 else status
    else:
        context["valid"] = True
        page = Paginator(entries, ENTRIES_PAGE).get_page(request.GET.get("page") or 1)
        for entry in page:
            entry.duration = duration(entry.minutes)  # type: ignore[attr-defined]
            entry.editable = may_change(request, entry)  # type: ignore[attr-defined]
        minutes, billable = queries.total_minutes(entries)
        context.update(page=page, total=duration(minutes), billable_total=duration(billable),
                       totals=[_totals(str(title), entries, by) for title, by in TOTALS])
        pages = request.GET.copy()
        pages.pop("page", None)
        context["page_query"] = pages.urlencode()
    _organization_name(filter_form)
    return render(request, "web/timesheets/index.html", context, status=status)


@require_http_methods(["GET", "POST"])
@agent_required
def timesheet(request: AgentRequest) -> HttpResponse:
    """The filtered entries with their totals; POST logs time on an item."""
    if request.method == "GET":
        return _render(request)
    form = LogTimeForm(request.POST, auto_id="log_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.log_time(data["item"], minutes=data["minutes"], date=data["date"], note=data["note"],
                                      billable=data["billable"], actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Logged %(time)s on %(reference)s %(title)s.") % {
                "time": duration(entry.minutes), "reference": entry.item.reference, "title": entry.item.title})
            return redirect(safe_next(request, reverse("web:timesheets")))
    return _render(request, log_form=form, status=422)


@require_GET
@agent_required
def export_csv(request: AgentRequest) -> HttpResponse | StreamingHttpResponse:
    """The entries the filters select, as CSV (streamed: a year of a team's time is large)."""
    form = TimeFilterForm(request.GET)
    entries = filtered_entries(form)
    if entries is None:
        problems = "; ".join(f"{name}: {' '.join(map(str, errors))}" for name, errors in form.errors.items())
        return HttpResponse(problems, status=422, content_type="text/plain; charset=utf-8")
    rows: Iterator[str] = csv_lines(queries.time_entry_rows(entries))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="timesheet-{datetime.date.today().isoformat()}.csv"'
    return response


def _entry_or_404(entry_id: int) -> TimeEntry:
    try:
        return queries.get_time_entry(entry_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _check(request: AgentRequest, entry: TimeEntry) -> None:
    if not may_change(request, entry):
        raise PermissionDenied(gettext("Only the agent who logged this time, or an admin, can change it."))


@require_http_methods(["GET", "POST"])
@agent_required
def time_entry(request: AgentRequest, entry_id: int) -> HttpResponse:
    """Edit one entry: a row of the timesheet (htmx) or a page of its own."""
    entry = _entry_or_404(entry_id)
    _check(request, entry)
    form = EntryForm(request.POST or None, auto_id=f"entry{entry.pk}_%s", initial={
        "minutes": entry.minutes, "date": entry.date, "note": entry.note, "billable": entry.billable})
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            services.update_time_entry(entry, changes=TimeChanges(
                minutes=data["minutes"], date=data["date"], note=data["note"], billable=data["billable"]),
                actor=actor(request))
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None
        except DomainError as exc:
            add_domain_error(form, exc)
            entry = _entry_or_404(entry_id)
        else:
            messages.success(request, gettext("Time entry on %(reference)s saved.") % {"reference": entry.item.reference})
            return redirect(safe_next(request, reverse("web:timesheets")))
    template = "web/timesheets/entry.html#edit-row" if request.htmx else "web/timesheets/entry.html"
    return render(request, template, {
        "entry": entry, "form": form, "duration": duration(entry.minutes), "next": safe_next(request, reverse("web:timesheets")),
    }, status=422 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
@agent_required
def delete_entry(request: AgentRequest, entry_id: int) -> HttpResponse:
    entry = _entry_or_404(entry_id)
    _check(request, entry)
    if request.method == "POST":
        try:
            services.delete_time_entry(entry, actor=actor(request))
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None
        messages.success(request, gettext("Deleted %(minutes)s on %(reference)s.") % {"minutes": duration(entry.minutes), "reference": entry.item.reference})
        return redirect(safe_next(request, reverse("web:timesheets")))
    return render(request, "web/timesheets/delete.html", {
        "entry": entry, "duration": duration(entry.minutes), "next": safe_next(request, reverse("web:timesheets"))})
