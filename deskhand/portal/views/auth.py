"""Customers register, verify their address, sign in (with a password or a link by mail), reset
their password and sign out. The pages never tell whether an address has an account."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from deskhand.accounts import services
from deskhand.accounts.inputs import Registration
from deskhand.accounts.services import Purpose
from deskhand.agents import ratelimit
from deskhand.core.errors import DomainError
from deskhand.core.i18n import browser_language, chosen_language
from deskhand.portal import sessions
from deskhand.portal.sessions import with_portal_session

LIMIT_PREFIX = "portal:"  # customers' failures are counted apart from agents'
CLIENT_PREFIX = "portal-mail:"  # registrations and link requests, counted per client
MAILS_PER_CLIENT = 30  # in the limiter's window (15 minutes): an office behind one address signs up fine


def _too_many(client: str) -> bool:
    """A client that asked for many portal mails lately (registering, links) waits: the
    per-address cap alone would let one client write to thousands of addresses."""
    return ratelimit.recent(CLIENT_PREFIX + client) >= MAILS_PER_CLIENT


class RegisterForm(forms.Form):
    email = forms.CharField(label=gettext_lazy("Email"), max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, widget=forms.TextInput(
        attrs={"autocomplete": "name"}))
    password = forms.CharField(label=gettext_lazy("Password"), max_length=200, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class SignInForm(forms.Form):
    email = forms.CharField(label=gettext_lazy("Email"), max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password = forms.CharField(label=gettext_lazy("Password"), max_length=200, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class EmailForm(forms.Form):
    email = forms.CharField(label=gettext_lazy("Email"), max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))


class PasswordForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("New password"), max_length=200, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("portal:home")
    if target.startswith("/portal") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("portal:home")


def _field_error(form: forms.Form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _notice(request: HttpRequest, title: str, text: str, status: int = 200) -> HttpResponse:
    return render(request, "portal/notice.html", {"title": title, "text": text}, status=status)


@require_http_methods(["GET", "POST"])
@with_portal_session
def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        client = request.META.get("REMOTE_ADDR", "")
        if _too_many(client):
            form.add_error(None, _("Too many requests from here. Try again in a few minutes."))
            return render(request, "portal/register.html", {"form": form}, status=429)
        try:
            registered = services.register(Registration(
                email=data["email"], name=data["name"], password=data["password"],
                language=chosen_language(request) or browser_language(request)))
        except DomainError as exc:
            _field_error(form, exc)
        else:
            ratelimit.record_failure(CLIENT_PREFIX + client, client)  # counts registrations per client
            if registered.mark:
                sessions.remember_registration(request, registered.mark)
            return _notice(request, _("Check your mail"), _(
                "We sent a mail to %(email)s. Open the link in it to finish; it works for three days.")
                % {"email": data["email"]})
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/register.html", {"form": form}, status=status)


@require_http_methods(["GET"])
@with_portal_session
def verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        account = services.verify(token, mark=sessions.registration_mark(request))
    except DomainError as exc:
        return _notice(request, _("This link does not work"), exc.message, status=exc.status)
    sessions.sign_in(request, account)
    if not account.password:
        return redirect("portal:password")
    return redirect("portal:home")


@require_http_methods(["GET", "POST"])
@with_portal_session
def sign_in(request: HttpRequest) -> HttpResponse:
    if sessions.current_account(request) is not None:
        return redirect(_next(request))
    form = SignInForm(request.POST or None)
    status, wait = 200, 0
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        client = request.META.get("REMOTE_ADDR", "")
        wait = ratelimit.wait_seconds(LIMIT_PREFIX + email, client)
        if wait:
            form.add_error(None, ngettext("Too many failed sign-ins. Wait %(seconds)s second and try again.",
                                          "Too many failed sign-ins. Wait %(seconds)s seconds and try again.", wait)
                           % {"seconds": wait})
            status = 429
        else:
            account = services.authenticate(email, form.cleaned_data["password"])
            if account is None:
                ratelimit.record_failure(LIMIT_PREFIX + email, client)
                form.add_error(None, _("That email and password do not match an account."))
                status = 400
            else:
                ratelimit.clear(LIMIT_PREFIX + email, client)
                sessions.sign_in(request, account)
                return redirect(_next(request))
    elif request.method == "POST":
        status = 400
    response = render(request, "portal/login.html", {"form": form, "next": _next(request)}, status=status)
    if wait:
        response["Retry-After"] = str(wait)
    return response


@require_POST
@with_portal_session
def sign_out(request: HttpRequest) -> HttpResponse:
    sessions.sign_out(request)
    return redirect("portal:login")


@require_http_methods(["GET", "POST"])
@with_portal_session
def send_link(request: HttpRequest, purpose: str) -> HttpResponse:
    """"Email me a sign-in link" (purpose sign_in) and "Forgot your password?" (reset)."""
    kind = Purpose.SIGN_IN if purpose == "sign-in" else Purpose.RESET
    title = _("Email me a sign-in link") if kind == Purpose.SIGN_IN else _("Forgot your password?")
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client = request.META.get("REMOTE_ADDR", "")
        if _too_many(client):
            form.add_error(None, _("Too many requests from here. Try again in a few minutes."))
            return render(request, "portal/send_link.html", {"form": form, "title": title}, status=429)
        ratelimit.record_failure(CLIENT_PREFIX + client, client)
        services.send_link(form.cleaned_data["email"], kind)
        return _notice(request, _("Check your mail"), _(
            "If %(email)s belongs to a customer of ours, a link is on its way. It works once.")
            % {"email": form.cleaned_data["email"]})
    return render(request, "portal/send_link.html", {"form": form, "title": title},
                  status=422 if request.method == "POST" else 200)


@require_http_methods(["GET"])
@with_portal_session
def use_link(request: HttpRequest, token: str) -> HttpResponse:
    """A sign-in link from the mail."""
    try:
        account = services.use_link(token, Purpose.SIGN_IN)
    except DomainError as exc:
        return _notice(request, _("This link does not work"), exc.message, status=exc.status)
    sessions.sign_in(request, account)
    return redirect("portal:home")


@require_http_methods(["GET"])
@with_portal_session
def password_link(request: HttpRequest, token: str) -> HttpResponse:
    """A reset or invitation link: sign in, then choose a password."""
    error: DomainError | None = None
    for purpose in (Purpose.RESET, Purpose.INVITE):
        try:
            account = services.use_link(token, purpose)
        except DomainError as exc:
            error = exc
            continue
        sessions.sign_in(request, account)
        return redirect("portal:password")
    assert error is not None
    return _notice(request, _("This link does not work"), error.message, status=error.status)


@require_http_methods(["GET", "POST"])
@sessions.customer_required
def choose_password(request: HttpRequest) -> HttpResponse:
    account = sessions.current_account(request)
    assert account is not None  # customer_required
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.set_password(account, form.cleaned_data["password"])
        except DomainError as exc:
            _field_error(form, exc)
        else:
            sessions.sign_in(request, account)  # the session follows the new password
            return redirect("portal:home")
    return render(request, "portal/password.html", {"form": form, "account": account},
                  status=422 if request.method == "POST" else 200)
