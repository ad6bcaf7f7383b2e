"""*Preview as customer*: an agent sees the portal exactly as one customer sees it (the same
scoped query, the same pages), read-only, under a banner. Opening it is written in the
customer's history."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from deskhand.accounts.services import account_of_customer, record_preview
from deskhand.core.actors import Actor
from deskhand.core.errors import NotFound
from deskhand.customers.models import Customer
from deskhand.customers.queries import get_customer
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
    return PortalViewer(customer, verified=account is not None and account.verified_at is not None)


@require_GET
def preview_home(request: HttpRequest, customer_id: int) -> HttpResponse:
    viewer = _viewer(request, customer_id)
    if isinstance(viewer, HttpResponse):
        return viewer
    if "page" not in request.GET and "tab" not in request.GET and "q" not in request.GET:
        record_preview(viewer.customer, actor=Actor.agent(request.user))  # type: ignore[arg-type]
    return render(request, "portal/home.html", {"preview": viewer.customer, **home_context(request, viewer)})


@require_GET
def preview_request(request: HttpRequest, customer_id: int, item_id: int) -> HttpResponse:
    viewer = _viewer(request, customer_id)
    if isinstance(viewer, HttpResponse):
        return viewer
    item = request_or_404(viewer, item_id)
    return render(request, "portal/request.html", {"preview": viewer.customer, **request_context(viewer, item)})
