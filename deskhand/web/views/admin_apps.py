"""Administration → Customer apps: where customers reach the help desk (the portal's address) and
what they see there (the visibility rule, with the organizations that override it)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from deskhand.config.queries import get_setting
from deskhand.config.services import update_settings
from deskhand.core.errors import DomainError
from deskhand.customers.models import Organization
from deskhand.web.access import actor, admin_required
from deskhand.web.http import AgentRequest

VISIBILITY = [
    ("requested", "Requested only", "Each customer sees the requests they asked for, nothing else."),
    ("requested_or_following", "Requested or following",
     "Each customer sees the requests they asked for and those they follow (someone put them in Cc, or they chose "
     "to follow)."),
    ("organization", "Their organization's",
     "Each customer also sees every request of their organization, once their address is verified."),
]


@require_GET
@admin_required
def customer_apps(request: AgentRequest) -> HttpResponse:
    overrides = Organization.objects.exclude(portal_visibility="").order_by("name")[:200]
    labels = {value: label for value, label, _text in VISIBILITY}
    return render(request, "web/admin/apps.html", {
        "portal_url": f"{settings.PUBLIC_ORIGIN}{reverse('portal:home')}",
        "register_url": f"{settings.PUBLIC_ORIGIN}{reverse('portal:register')}",
        "visibility": VISIBILITY, "current": get_setting("portal_visibility"),
        "helpdesk_name": get_setting("email_sender_name"), "brand_color": get_setting("brand_color"),
        "overrides": [(organization, labels.get(organization.portal_visibility, "")) for organization in overrides],
    })


@require_POST
@admin_required
def save_visibility(request: AgentRequest) -> HttpResponse:
    try:
        update_settings({"portal_visibility": request.POST.get("portal_visibility", "")}, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Portal visibility saved. It applies from the customers' next page.")
    return redirect("web:admin-apps")


@require_POST
@admin_required
def save_branding(request: AgentRequest) -> HttpResponse:
    """The help desk's name (the portal's title and the sender of customer mail) and colour."""
    try:
        update_settings({"email_sender_name": request.POST.get("helpdesk_name", "")[:200],
                         "brand_color": request.POST.get("brand_color", "")[:20]}, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Branding saved.")
    return redirect("web:admin-apps")
