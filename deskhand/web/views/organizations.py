"""Organization pages: create, profile with domains and members, merge, delete."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from deskhand.audit.queries import history
from deskhand.automations.queries import routing_of
from deskhand.automations.services import set_routing
from deskhand.config.queries import get_setting
from deskhand.core.emailaddr import display_domain
from deskhand.core.errors import DomainError
from deskhand.customers import queries, services
from deskhand.customers.inputs import OrganizationChanges
from deskhand.customers.models import Organization, Source
from deskhand.web.access import actor, admin_required, agent_required
from deskhand.web.forms import (
    DomainForm,
    MergeOrganizationForm,
    NewOrganizationForm,
    OrganizationForm,
    add_domain_error,
    custom_values,
)
from deskhand.web.forms_automations import (
    ACTION_LABELS,
    BLANK_ACTION,
    Names,
    Pickers,
    action_rows,
    describe_action,
    posted_action_rows,
    read_actions,
)
from deskhand.web.http import AgentRequest
from deskhand.web.views.admin_apps import RULE_TEXT, VISIBILITY
from deskhand.web.views.customers import REQUESTS_SHOWN, get_organization_or_404
from deskhand.work.queries import items_of_organization, project_list

MEMBERS_PAGE = 50


@require_http_methods(["GET", "POST"])
@agent_required
def new_organization(request: AgentRequest) -> HttpResponse:
    form = NewOrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        domains = [part for part in re.split(r"[\s,;]+", data["domains"]) if part]
        try:
            organization = services.create_organization(
                data["name"], domains=domains, notes=data["notes"], custom_fields=custom_values(form),
                source=Source.AGENT, actor=actor(request),
            )
        except DomainError as exc:
            add_domain_error(form, exc, aliases={"domain": "domains"})
        else:
            messages.success(request, gettext("Organization %(name)s created.") % {"name": organization.name})
            return redirect("web:organization-detail", organization_id=organization.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "web/customers/new_organization.html", {"form": form}, status=status)


def _routing(organization: Organization, *, editable: bool, typed: list[dict[str, str]] | None = None,
             error: DomainError | None = None) -> dict[str, Any]:
    """The routing section: what happens to every ticket its members submit, and its editor."""
    row = routing_of(organization.pk)
    stored = row.actions if row is not None else []
    rows = typed if typed is not None else action_rows(stored)
    if not rows or rows[-1].get("type"):
        rows = [*rows, dict(BLANK_ACTION)]
    names = Names.load() if stored else None
    return {"automation": row, "described": [describe_action(action, names) for action in stored], "rows": rows,
            # Every agent, team, project and policy: read only for an admin, who gets the editor.
            "pickers": Pickers.load("ticket") if editable else None, "action_types": [(key, gettext(label)) for key, label in ACTION_LABELS.items()],
            "error": error,
            "error_at": error.field if error else ""}


def _detail(request: AgentRequest, organization: Organization, *, form: OrganizationForm | None = None,
            domain_form: DomainForm | None = None, preview: dict[str, Any] | None = None,
            routing: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    members = Paginator(queries.customer_list(organization=organization.pk), MEMBERS_PAGE)
    page_number = request.GET.get("page") or 1
    return render(request, "web/customers/organization.html", {
        "organization": organization,
        "form": form or OrganizationForm(initial={"name": organization.name, "notes": organization.notes},
                                         custom=organization.custom_fields),
        "domain_form": domain_form or DomainForm(),
        "preview": preview,
        "domains": [(d.domain, display_domain(d.domain)) for d in organization.domains.all()],
        "members": members.get_page(page_number),
        "panel": queries.detail_panel(organization),
        "merge_form": MergeOrganizationForm(),
        "events": history("organization", organization.pk, limit=50),
        "requests": items_of_organization(organization, limit=REQUESTS_SHOWN),
        "projects": list(project_list(organization=str(organization.pk))),
        "routing": routing or _routing(organization, editable=request.user.is_admin),
        "portal": _portal(organization),
    }, status=status)


def _portal(organization: Organization) -> dict[str, Any]:
    setting = str(get_setting("portal_visibility"))
    rule = organization.portal_visibility or setting
    labels = {value: label for value, label, _text in VISIBILITY}
    return {"text": RULE_TEXT.get(rule, ""), "choices": VISIBILITY, "global_label": labels.get(setting, setting)}


@require_POST
@admin_required
def save_portal(request: AgentRequest, organization_id: int) -> HttpResponse:
    """The organization's own portal visibility rule, or the global setting."""
    organization = get_organization_or_404(organization_id)
    try:
        services.update_organization(organization, changes=OrganizationChanges(
            portal_visibility=request.POST.get("portal_visibility", "")[:40] or None), actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Portal visibility saved."))
    return redirect("web:organization-detail", organization_id=organization.pk)


@require_POST
@admin_required
def save_routing(request: AgentRequest, organization_id: int) -> HttpResponse:
    """The routing section's actions, saved as the organization's routing automation."""
    organization = get_organization_or_404(organization_id)
    try:
        set_routing(organization, actions=read_actions(request.POST), actor=actor(request))
    except DomainError as exc:
        routing = _routing(organization, editable=True, typed=posted_action_rows(request.POST), error=exc)
        return _detail(request, organization, routing=routing, status=exc.status)
    messages.success(request, gettext("Routing saved."))
    return redirect(f"{reverse('web:organization-detail', kwargs={'organization_id': organization.pk})}#routing")


@require_http_methods(["GET", "POST"])
@agent_required
def organization_detail(request: AgentRequest, organization_id: int) -> HttpResponse:
    organization = get_organization_or_404(organization_id)
    if request.method == "GET":
        return _detail(request, organization)
    form = OrganizationForm(request.POST, custom=organization.custom_fields)
    if form.is_valid():
        try:
            services.update_organization(organization, changes=OrganizationChanges(
                name=form.cleaned_data["name"], notes=form.cleaned_data["notes"], custom_fields=custom_values(form),
            ), actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("web:organization-detail", organization_id=organization.pk)
    return _detail(request, get_organization_or_404(organization_id), form=form, status=422)


@require_POST
@agent_required
def add_domain(request: AgentRequest, organization_id: int) -> HttpResponse:
    """First a preview (which unassigned customers the domain would take), then the change."""
    organization = get_organization_or_404(organization_id)
    form = DomainForm(request.POST)
    if not form.is_valid():
        return _detail(request, organization, domain_form=form, status=422)
    try:
        domain = services.check_domain(form.cleaned_data["domain"])
        if request.POST.get("step") == "preview":
            services.check_domain_free(organization, domain)  # the add's own check, before it is offered
            candidates = queries.unassigned_customers_for_domain(organization, domain)
            preview = {"domain": domain, "display": display_domain(domain), "count": candidates.count(),
                       "sample": list(candidates.order_by("email_key")[:10])}
            return _detail(request, organization, domain_form=form, preview=preview)
        _, moved = services.add_domain(organization, domain, apply_to_existing=form.cleaned_data["apply_to_existing"],
                                       actor=actor(request))
    except DomainError as exc:
        add_domain_error(form, exc)
        return _detail(request, organization, domain_form=form, status=exc.status)
    text = (ngettext("Added %(domain)s and moved %(count)s customers here.", "Added %(domain)s and moved %(count)s customers here.", moved)
            if moved else gettext("Added %(domain)s."))
    messages.success(request, text % {"domain": display_domain(domain), "count": moved})
    return redirect("web:organization-detail", organization_id=organization.pk)


@require_POST
@agent_required
def remove_domain(request: AgentRequest, organization_id: int, domain: str) -> HttpResponse:
    organization = get_organization_or_404(organization_id)
    try:
        services.remove_domain(organization, domain, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Removed %(domain)s. Its customers stay here.") % {"domain": display_domain(domain)})
    return redirect("web:organization-detail", organization_id=organization.pk)


@require_http_methods(["GET", "POST"])
@agent_required
def merge_organization(request: AgentRequest, organization_id: int) -> HttpResponse:
    organization = get_organization_or_404(organization_id)
    form = MergeOrganizationForm(request.POST or request.GET or None)
    survivor = None
    if form.is_bound and form.is_valid():
        survivor = queries.organization_by_name(form.cleaned_data["into"])
        if survivor is None:
            form.add_error("into", gettext("There is no organization with this name."))
        elif survivor.pk == organization.pk:
            form.add_error("into", gettext("Choose another organization."))
            survivor = None
    if request.method == "POST" and survivor and request.POST.get("confirm") == "yes":
        try:
            services.merge_organizations(organization, into=survivor, actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("%(merged)s was merged into %(survivor)s.") % {"merged": organization.name, "survivor": survivor.name})
            return redirect("web:organization-detail", organization_id=survivor.pk)
    return render(request, "web/customers/merge_organization.html", {
        "organization": organization, "form": form, "survivor": survivor,
        "domains": [display_domain(d.domain) for d in organization.domains.all()],
    }, status=422 if form.is_bound and form.errors else 200)


@require_http_methods(["GET", "POST"])
@agent_required
def delete_organization(request: AgentRequest, organization_id: int) -> HttpResponse:
    organization = get_organization_or_404(organization_id)
    if request.method == "POST":
        services.delete_organization(organization, actor=actor(request))
        messages.success(request, gettext("%(name)s was deleted; its customers are in No organization.") % {"name": organization.name})
        return redirect("web:customers")
    return render(request, "web/customers/delete_organization.html", {
        "organization": organization, "domains": [display_domain(d.domain) for d in organization.domains.all()],
    })
