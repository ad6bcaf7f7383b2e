"""*Preview as customer*: an agent sees the portal exactly as one customer sees it (the same
scoped query, the same pages), read-only, under a banner. Opening it is written in the
customer's history."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from deskhand.accounts.queries import account_of_customer
from deskhand.accounts.services import record_preview
from deskhand.core.actors import Actor
from deskhand.core.errors import NotFound
from deskhand.customers.models import Customer
from deskhand.customers.queries import get_customer
from deskhand.portal.language import apply_customer_language
from deskhand.portal.views.requests import home_context, request_context, request_or_404
from deskhand.work.queries import PortalViewer


def _viewer(request: HttpRequest, customer_id: int) -> PortalViewer | HttpResponse:
    if not (request.user.is_authenticated and request.user.is_active):
        return redirect(f"{reverse('web:login')}?{urlencode({'next': request.get_full_path()})}")
    try:
        customer: Customer = get_customer(customer_id)
    except NotFound:
        raise Http404("There is no such customer.") from None
    account = account_of_customer(customer)
    apply_customer_language(request, customer)  # the pages exactly as the customer sees them
    return PortalViewer(customer, verified=account is not None and account.verified_at is not None)


def _record_once(request: HttpRequest, viewer: PortalViewer) -> None:
    """The customer's history says an agent looked, once per agent session and customer."""
    key = f"portal_previewed_{viewer.customer.pk}"
    if not request.session.get(key):
        record_preview(viewer.customer, actor=Actor.agent(request.user))  # type: ignore[arg-type]
        request.session[key] = True


@require_GET
def preview_home(request: HttpRequest, customer_id: int) -> HttpResponse:
    viewer = _viewer(request, customer_id)
    if isinstance(viewer, HttpResponse):
        return viewer
    _record_once(request, viewer)
    return render(request, "portal/home.html", {"preview": viewer.customer, **home_context(request, viewer)})


@require_GET
def preview_request(request: HttpRequest, customer_id: int, item_id: int) -> HttpResponse:
    viewer = _viewer(request, customer_id)
    if isinstance(viewer, HttpResponse):
        return viewer
    _record_once(request, viewer)
    item = request_or_404(viewer, item_id)
    return render(request, "portal/request.html", {"preview": viewer.customer, **request_context(viewer, item)})
