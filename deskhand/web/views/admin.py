"""Administration → Customers: filing settings, customer types, custom fields, detail panels."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy, gettext_noop, pgettext
from django.views.decorators.http import require_GET, require_POST

from deskhand.config.queries import CUSTOMER_PROPERTIES, ORGANIZATION_PROPERTIES, get_settings
from deskhand.config.services import update_settings
from deskhand.core.emailaddr import display_domain
from deskhand.core.errors import DomainError
from deskhand.core.numbers import int_or_default
from deskhand.customers import queries as customer_queries
from deskhand.customers import services as customer_services
from deskhand.customers.inputs import CustomerTypeChanges
from deskhand.fields import queries as field_queries
from deskhand.fields import services as field_services
from deskhand.fields.models import AppliesTo, FieldType
from deskhand.web.access import actor, admin_required
from deskhand.web.http import AgentRequest

PROPERTY_LABELS = {
    "email": gettext_noop("Email"), "name": gettext_noop("Name"), "phone": gettext_noop("Phone"),
    "organization": gettext_noop("Organization"), "customer_type": gettext_noop("Customer type"),
    "language": gettext_noop("Language"), "notes": gettext_noop("Notes"), "source": gettext_noop("Source"),
    "created_at": gettext_noop("Created"), "updated_at": gettext_noop("Updated"), "domains": gettext_noop("Domains"),
    "customer_count": gettext_noop("Customers"),
}


class FilingForm(forms.Form):
    auto_create_organizations = forms.BooleanField(
        label=gettext_lazy("Automatically create customer organizations"), required=False,
        help_text=gettext_lazy("A new customer whose company domain no organization owns gets a new organization."))
    extra_free_mail_domains = forms.CharField(
        label=gettext_lazy("Extra free-mail domains"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line. Their users are never grouped into an organization (gmail.com and "
                  "thousands of others are built in)."))


class CustomerTypeForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Type name"), max_length=2000)
    color = forms.CharField(label=gettext_lazy("Colour"), initial="#6b7280", widget=forms.TextInput(attrs={"type": "color"}))
    visible = forms.BooleanField(label=gettext_lazy("Visible"), required=False, initial=True)


class CustomFieldForm(forms.Form):
    applies_to = forms.ChoiceField(label=gettext_lazy("For"), choices=[(AppliesTo.CUSTOMER, gettext_lazy("Customers")),
                                                         (AppliesTo.ORGANIZATION, gettext_lazy("Organizations"))])
    label = forms.CharField(label=gettext_lazy("Field label"), max_length=2000)
    type = forms.ChoiceField(label=gettext_lazy("Field type"), choices=FieldType.choices)
    required = forms.BooleanField(label=gettext_lazy("Required"), required=False)
    choices = forms.CharField(label=gettext_lazy("Choices"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=gettext_lazy("For one-of and many-of fields: one per line."))


def _panel_rows(panel: list[str], properties: tuple[str, ...], applies_to: str) -> list[dict[str, Any]]:
    """Every property that can be shown, the chosen ones first in their order."""
    options = [(name, gettext(PROPERTY_LABELS.get(name, name))) for name in properties]
    options += [(f"custom_fields.{f.key}", gettext("%(label)s (custom)") % {"label": f.label})
                for f in field_queries.custom_field_list(applies_to=applies_to)]
    order = {entry: index for index, entry in enumerate(panel)}
    rows = [{"key": key, "label": label, "shown": key in order, "position": order.get(key, len(order) + i) + 1}
            for i, (key, label) in enumerate(options)]
    rows.sort(key=lambda row: (not row["shown"], row["position"]))
    for number, row in enumerate(rows, start=1):
        row["position"] = number
    return rows


def _render(request: AgentRequest, *, filing: FilingForm | None = None, type_form: CustomerTypeForm | None = None,
            field_form: CustomFieldForm | None = None, status: int = 200) -> HttpResponse:
    settings = get_settings()
    filing = filing or FilingForm(initial={
        "auto_create_organizations": settings["auto_create_organizations"],
        "extra_free_mail_domains": "\n".join(display_domain(d) for d in settings["extra_free_mail_domains"]),
    })
    return render(request, "web/admin/customers.html", {
        "filing": filing, "type_form": type_form or CustomerTypeForm(), "field_form": field_form or CustomFieldForm(),
        "types": customer_queries.customer_type_list(),
        "fields": field_queries.custom_field_list().filter(applies_to__in=["customer", "organization"]),
        "customer_panel": _panel_rows(settings["customer_panel"], CUSTOMER_PROPERTIES, "customer"),
        "organization_panel": _panel_rows(settings["organization_panel"], ORGANIZATION_PROPERTIES, "organization"),
    }, status=status)


@require_GET
@admin_required
def customers_settings(request: AgentRequest) -> HttpResponse:
    return _render(request)


@require_POST
@admin_required
def save_filing(request: AgentRequest) -> HttpResponse:
    form = FilingForm(request.POST)
    if form.is_valid():
        domains = [d for d in re.split(r"[\s,;]+", form.cleaned_data["extra_free_mail_domains"]) if d]
        try:
            update_settings({"auto_create_organizations": form.cleaned_data["auto_create_organizations"],
                             "extra_free_mail_domains": domains}, actor=actor(request))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, gettext("Customer settings saved."))
            return redirect("web:admin-customers")
    return _render(request, filing=form, status=422)


@require_POST
@admin_required
def add_customer_type(request: AgentRequest) -> HttpResponse:
    form = CustomerTypeForm(request.POST)
    if form.is_valid():
        try:
            customer_services.create_customer_type(form.cleaned_data["name"], color=form.cleaned_data["color"],
                                                   visible=form.cleaned_data["visible"], actor=actor(request))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, gettext("Customer type %(name)s added.") % {"name": form.cleaned_data["name"]})
            return redirect("web:admin-customers")
    return _render(request, type_form=form, status=422)


@require_POST
@admin_required
def change_customer_type(request: AgentRequest, type_id: int) -> HttpResponse:
    try:
        customer_type = customer_queries.get_customer_type(type_id)
        if request.POST.get("action") == "delete":
            customer_services.delete_customer_type(customer_type, actor=actor(request))
            messages.success(request, gettext("Customer type %(name)s deleted.") % {"name": customer_type.name})
        else:
            customer_services.update_customer_type(customer_type, changes=CustomerTypeChanges(
                name=request.POST.get("name", ""), color=request.POST.get("color", ""),
                visible=request.POST.get("visible") == "on"), actor=actor(request))
            messages.success(request, gettext("Customer type %(name)s saved.") % {"name": customer_type.name})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("web:admin-customers")


@require_POST
@admin_required
def add_custom_field(request: AgentRequest) -> HttpResponse:
    form = CustomFieldForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        choices = [line.strip() for line in data["choices"].splitlines() if line.strip()]
        try:
            field_services.create_custom_field(applies_to=data["applies_to"], label=data["label"], type=data["type"],
                                               required=data["required"], choices=choices, actor=actor(request))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, gettext("Custom field %(label)s added.") % {"label": data["label"]})
            return redirect("web:admin-customers")
    return _render(request, field_form=form, status=422)


@require_POST
@admin_required
def delete_custom_field(request: AgentRequest, field_id: int) -> HttpResponse:
    try:
        field = field_queries.get_custom_field(field_id)
        field_services.delete_custom_field(field, actor=actor(request))
        messages.success(request, gettext("Custom field %(label)s deleted.") % {"label": field.label})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("web:admin-customers")


@require_POST
@admin_required
def save_panel(request: AgentRequest, which: str) -> HttpResponse:
    """The detail-panel designer: the ticked properties, ordered by their position numbers."""
    setting = {"customer": "customer_panel", "organization": "organization_panel"}.get(which)
    if setting is None:
        messages.error(request, gettext("Unknown panel."))
        return redirect("web:admin-customers")
    chosen = []
    for index, key in enumerate(request.POST.getlist("property")):
        position = int_or_default(request.POST.get(f"position:{key}"), index + 1, maximum=1_000)
        chosen.append((position, index, key))
    try:
        update_settings({setting: [key for _, _, key in sorted(chosen)]}, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("The %(which)s detail panel was saved.") % {"which": pgettext("kind", which)})
    return redirect("web:admin-customers")
