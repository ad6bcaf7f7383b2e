"""The Customers app: customers grouped by organization, profiles, moves, merges."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskhand.accounts.queries import account_of_customer
from deskhand.accounts.services import invite as invite_customer
from deskhand.audit.queries import history
from deskhand.core.emailaddr import AddressError, parse_email
from deskhand.core.errors import DomainError, NotFound
from deskhand.core.numbers import id_or_none, int_or_default
from deskhand.core.text import search_term
from deskhand.customers import queries, services
from deskhand.customers.inputs import CustomerChanges
from deskhand.customers.models import Customer, Organization, Source
from deskhand.web.access import actor, agent_required, safe_next
from deskhand.web.forms import (
    CustomerForm,
    MergeCustomerForm,
    MoveForm,
    NewCustomerForm,
    add_domain_error,
    custom_values,
)
from deskhand.web.forms_items import optional_id
from deskhand.web.http import AgentRequest
from deskhand.web.views.admin_apps import RULE_TEXT
from deskhand.work.queries import PortalViewer, items_of_customer, portal_rule

GROUP_PAGE = 50
REQUESTS_SHOWN = 50
MEMBERS_PAGE = 25
NO_ORGANIZATION_LABELS = {"no organization", "none", "-"}


def get_customer_or_404(customer_id: int) -> Customer:
    try:
        return queries.get_customer(customer_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def get_organization_or_404(organization_id: int) -> Organization:
    try:
        return queries.get_organization(organization_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def resolve_organization_name(text: str) -> Organization | None:
    """A typed organization name; "No organization" (or empty) means none. Unknown names raise."""
    clean = search_term(text)
    if not clean or clean.lower() in NO_ORGANIZATION_LABELS or clean.lower() == gettext("No organization").lower():
        return None
    organization = queries.organization_by_name(clean)
    if organization is None:
        raise NotFound("organization_not_found", gettext("There is no organization named “%(name)s”.") % {"name": clean},
                       field="organization")
    return organization


@require_GET
@agent_required
def customer_index(request: AgentRequest) -> HttpResponse:
    q = search_term(request.GET.get("q"))
    context: dict[str, Any] = {"q": q}
    if q:
        customers = list(queries.customer_list(search=q)[:100])
        groups: dict[int | None, dict[str, Any]] = {}
        for customer in customers:
            key = customer.organization_id
            groups.setdefault(key, {"organization": customer.organization, "customers": []})["customers"].append(
                customer)
        context["search_groups"] = sorted(groups.values(), key=lambda g: (g["organization"] is not None,
                                                                          (g["organization"].name.lower()
                                                                           if g["organization"] else "")))
        context["customer_hits"] = len(customers)
        context["organization_hits"] = list(queries.organization_list(search=q)[:20])
    else:
        context["page"], context["organizations"] = queries.organization_page(int_or_default(request.GET.get("page"), 1),
                                                                              per_page=GROUP_PAGE)
        context["unassigned_count"] = queries.customer_count_without_organization()
        context["unassigned"] = list(queries.customer_list(organization=queries.NO_ORGANIZATION)[:MEMBERS_PAGE])
    return render(request, "web/customers/index.html", context)


@require_GET
@agent_required
def group_members(request: AgentRequest, group: str) -> HttpResponse:
    """One group's customers, a page at a time (loaded when the group is opened)."""
    organization: str | int | None = group if group == queries.NO_ORGANIZATION else id_or_none(group)
    if organization is None:
        raise Http404
    offset = int_or_default(request.GET.get("offset"), 0, minimum=0)
    customers = list(queries.customer_list(organization=organization)[offset:offset + MEMBERS_PAGE + 1])
    return render(request, "web/customers/index.html#members", {
        "customers": customers[:MEMBERS_PAGE], "group": group, "next_offset": offset + MEMBERS_PAGE
        if len(customers) > MEMBERS_PAGE else None,
    })


@require_GET
@agent_required
def organization_options(request: AgentRequest) -> HttpResponse:
    names = queries.organization_names(request.GET.get("organization") or request.GET.get("q") or "")
    return render(request, "web/customers/index.html#organization-options", {"names": names})


@require_POST
@agent_required
def move(request: AgentRequest, customer_id: int) -> HttpResponse:
    """Drag and drop (htmx, `organization` = id or none) or the Move to… form (a name)."""
    try:
        customer = queries.get_customer(customer_id)
        old = customer.organization_id
        if request.htmx:
            value = request.POST.get("organization", "")
            if value == queries.NO_ORGANIZATION:
                target = None
            elif (number := id_or_none(value)) is not None:
                target = queries.get_organization(number)
            else:
                raise NotFound("organization_not_found", gettext("Choose an organization."), field="organization")
        else:
            target = resolve_organization_name(request.POST.get("organization", ""))
        services.move_customer(customer, to=target, actor=actor(request))
    except DomainError as exc:
        message = exc.message
        if exc.code == "organization_not_found":
            message = gettext("That organization no longer exists; the customer stayed where they were.")
        if request.htmx:
            response = HttpResponse(status=409 if isinstance(exc, NotFound) else exc.status)
            response["HX-Trigger"] = json.dumps({"deskhand:move-failed": {"message": message}})
            return response
        messages.error(request, message)
        return redirect(safe_next(request, reverse("web:customers")))
    where = target.name if target else gettext("No organization")
    message = gettext("%(email)s moved to %(where)s.") % {"email": customer.email, "where": where}
    if request.htmx:
        response = HttpResponse(status=200)
        response["HX-Trigger"] = json.dumps({"deskhand:moved": {
            "message": message, "customer": customer.pk,
            "from": old if old is not None else queries.NO_ORGANIZATION,
            "to": target.pk if target else queries.NO_ORGANIZATION,
        }})
        return response
    messages.success(request, message)
    return redirect(safe_next(request, reverse("web:customer-detail", args=[customer.pk])))


@require_http_methods(["GET", "POST"])
@agent_required
def new_customer(request: AgentRequest) -> HttpResponse:
    form = NewCustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            organization: Any = services.AUTO
            if data["organization"].strip():
                organization = resolve_organization_name(data["organization"])
            customer = services.create_customer(
                data["email"], name=data["name"], phone=data["phone"], language=data["language"],
                notes=data["notes"], customer_type=int(data["customer_type"]) if data["customer_type"] else None,
                organization=organization, custom_fields=custom_values(form), source=Source.AGENT,
                actor=actor(request),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            where = customer.organization.name if customer.organization else gettext("No organization")
            messages.success(request, gettext("Customer %(email)s created in %(where)s.") % {"email": customer.email, "where": where})
            return redirect("web:customer-detail", customer_id=customer.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "web/customers/new_customer.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@agent_required
def customer_detail(request: AgentRequest, customer_id: int) -> HttpResponse:
    customer = get_customer_or_404(customer_id)
    initial = {"email": customer.email, "name": customer.name, "phone": customer.phone,
               "language": customer.language, "notes": customer.notes,
               "customer_type": str(customer.customer_type_id or "")}
    form = CustomerForm(request.POST or None, initial=initial, custom=customer.custom_fields)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_customer(customer, changes=CustomerChanges(
                email=data["email"], name=data["name"], phone=data["phone"], language=data["language"],
                notes=data["notes"], customer_type=optional_id(data["customer_type"], field="customer_type"),
                custom_fields=custom_values(form),
            ), actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
            customer = get_customer_or_404(customer_id)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("web:customer-detail", customer_id=customer.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "web/customers/customer.html", {
        "customer": customer, "form": form, "panel": queries.detail_panel(customer), "move_form": MoveForm(),
        "merge_form": MergeCustomerForm(), "events": history("customer", customer.pk, limit=50),
        "requests": items_of_customer(customer, limit=REQUESTS_SHOWN), "portal": _portal(customer),
    }, status=status)


def _portal(customer: Customer) -> dict[str, Any]:
    account = account_of_customer(customer)
    rule = portal_rule(PortalViewer(customer, verified=account is not None and account.verified_at is not None))
    return {"account": account, "rule_text": RULE_TEXT[rule]}


@require_POST
@agent_required
def invite(request: AgentRequest, customer_id: int) -> HttpResponse:
    """*Invite to the portal*: a mail with a link to set a password."""
    customer = get_customer_or_404(customer_id)
    try:
        invite_customer(customer, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Invitation sent to %(email)s.") % {"email": customer.email})
    return redirect("web:customer-detail", customer_id=customer.pk)


@require_http_methods(["GET", "POST"])
@agent_required
def merge_customer(request: AgentRequest, customer_id: int) -> HttpResponse:
    """Step 1 names the survivor and shows what will happen; step 2 (confirm) merges."""
    customer = get_customer_or_404(customer_id)
    form = MergeCustomerForm(request.POST or request.GET or None)
    survivor = None
    if form.is_bound and form.is_valid():
        try:
            survivor = queries.find_customer_by_email(parse_email(form.cleaned_data["into"]).key)
        except AddressError as exc:
            form.add_error("into", str(exc))
        else:
            if survivor is None:
                form.add_error("into", gettext("No customer has this address."))
            elif survivor.pk == customer.pk:
                form.add_error("into", gettext("Choose another customer."))
                survivor = None
    if request.method == "POST" and survivor and request.POST.get("confirm") == "yes":
        try:
            services.merge_customers(customer, into=survivor, actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("%(merged)s was merged into %(survivor)s.") % {"merged": customer.email, "survivor": survivor.email})
            return redirect("web:customer-detail", customer_id=survivor.pk)
    return render(request, "web/customers/merge_customer.html",
                  {"customer": customer, "form": form, "survivor": survivor},
                  status=422 if form.is_bound and form.errors else 200)
