"""A web form's public page, `/forms/<slug>`, also shown in an iframe on the company's own site.
It asks for the visitor's address and name (or knows a signed-in customer), a title, a
description and the form's fields, and files the request through the web form service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from deskhand.core.csp import policy_header
from deskhand.core.errors import DomainError
from deskhand.core.i18n import browser_language, chosen_language
from deskhand.fields.formfields import CF_PREFIX, custom_form_fields
from deskhand.portal.sessions import current_account, with_portal_session
from deskhand.webforms.inputs import Submission
from deskhand.webforms.models import WebForm
from deskhand.webforms.services import opened_token, submit

TRAP = "website"  # the hidden field: people leave it empty


def _unused(request: HttpRequest) -> HttpResponse:
    """A view to hand Django's CSRF check, which only asks whether it is exempt."""
    return HttpResponse()


class VisitorForm(forms.Form):
    email = forms.CharField(label=gettext_lazy("Email"), max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=100_000,
                                  widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args: Any, webform: WebForm, signed_in: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if signed_in:
            del self.fields["email"], self.fields["name"]
        keys = [entry["key"] for entry in webform.fields]
        required = [entry["key"] for entry in webform.fields if entry.get("required")]
        self.fields.update(custom_form_fields(webform.item_kind, keys=keys, required=required))


def _framable(response: HttpResponse) -> HttpResponse:
    """The form may be shown in an iframe on any site (the embed snippet)."""
    response.headers["Content-Security-Policy"] = policy_header(replace={"frame-ancestors": ("*",)})
    return response


@csrf_exempt  # checked below for signed-in customers; an anonymous form has its signed moment instead
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
@with_portal_session
def web_form(request: HttpRequest, slug: str) -> HttpResponse:
    webform = WebForm.objects.filter(slug=slug[:60], enabled=True).first()
    if webform is None:
        raise Http404(_("There is no such form."))
    account = current_account(request)
    if webform.require_sign_in and account is None:
        return redirect(f"{reverse('portal:login')}?{urlencode({'next': request.get_full_path()})}")
    if request.method == "POST" and account is not None:
        rejected = CsrfViewMiddleware(_unused).process_view(request, _unused, (), {})
        if rejected is not None:
            return rejected
    form = VisitorForm(request.POST or None, webform=webform, signed_in=account is not None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = submit(webform, Submission(
                    title=data["title"], description=data["description"],
                    client=request.META.get("REMOTE_ADDR", ""), opened=request.POST.get("opened", ""),
                    email=data.get("email", ""), name=data.get("name", ""),
                    customer_id=account.customer_id if account is not None else None,
                    custom_fields={name.removeprefix(CF_PREFIX): value for name, value in data.items()
                                   if name.startswith(CF_PREFIX)},
                    trap=request.POST.get(TRAP, ""), language=chosen_language(request) or browser_language(request)))
            except DomainError as exc:
                field = exc.field or ""
                field = CF_PREFIX + field.removeprefix("custom_fields.") if field.startswith("custom_fields.") else field
                form.add_error(field if field in form.fields else None, exc.message)
                status = exc.status if exc.status != 400 else 422
            else:
                return _framable(render(request, "portal/form_sent.html", {
                    "webform": webform, "item": item, "account": account}))
    return _framable(render(request, "portal/form.html", {
        "webform": webform, "form": form, "opened": opened_token(), "trap": TRAP, "account": account},
        status=status))
