from __future__ import annotations

from django import forms
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from deskhand.agents import ratelimit


class SignInForm(forms.Form):
    email = forms.CharField(label=gettext_lazy("Email"), max_length=254, widget=forms.EmailInput(attrs={"autofocus": True,
                                                                                         "autocomplete": "email"}))
    password = forms.CharField(label=gettext_lazy("Password"), max_length=200,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("web:ticket-list")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("web:ticket-list")


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = SignInForm(request.POST or None)
    status, wait = 200, 0
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        client = request.META.get("REMOTE_ADDR", "")
        wait = ratelimit.wait_seconds(email, client)
        if wait:
            form.add_error(None, gettext("Too many failed sign-ins. Wait %(wait)s and try again.") % {"wait": _duration(wait)})
            status = 429
        else:
            agent = auth.authenticate(request, username=email, password=form.cleaned_data["password"])
            if agent is None:
                ratelimit.record_failure(email, client)
                form.add_error(None, gettext("That email and password do not match an active agent."))
                status = 400
            else:
                ratelimit.clear(email, client)
                auth.login(request, agent)
                return redirect(_next_url(request))
    elif request.method == "POST":
        status = 400
    response = render(request, "web/login.html", {"form": form, "next": _next_url(request)}, status=status)
    if status == 429:
        response["Retry-After"] = str(wait)
    return response


def _duration(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(count)s second", "%(count)s seconds", seconds) % {"count": seconds}
    minutes = (seconds + 59) // 60
    return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    messages.info(request, gettext("You are signed out."))
    return redirect("web:login")
