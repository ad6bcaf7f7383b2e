"""Customers' sessions: Django's session store under a cookie of their own, so that a customer
session and an agent session never share a cookie, a lifetime or a sign-out. The session holds the
account's id and a hash of its password: a new password ends every other session of the account."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import urlencode

from deskhand.accounts.models import CustomerAccount
from deskhand.portal.language import apply_portal_language

COOKIE = "deskhand_portal"
AGE = 30 * 24 * 3600
ACCOUNT_KEY = "portal_account"
HASH_KEY = "portal_hash"
REGISTERED_KEY = "portal_registered"  # the account this browser registered: its link keeps the password


def _store(request: HttpRequest) -> SessionBase:
    store: SessionBase | None = getattr(request, "portal_session", None)
    if store is None:
        engine = import_module(settings.SESSION_ENGINE)
        store = engine.SessionStore(request.COOKIES.get(COOKIE))
        request.portal_session = store  # type: ignore[attr-defined]
    return store


def _hash(account: CustomerAccount) -> str:
    return salted_hmac("deskhand.portal.session", account.password or "-", algorithm="sha256").hexdigest()


def current_account(request: HttpRequest) -> CustomerAccount | None:
    """The signed-in customer's account, or None."""
    if hasattr(request, "portal_account"):
        cached: CustomerAccount | None = request.portal_account
        return cached
    store = _store(request)
    pk = store.get(ACCOUNT_KEY)
    account = CustomerAccount.objects.select_related("customer__organization").filter(pk=pk).first() \
        if isinstance(pk, int) else None
    if account is not None and (account.customer.merged_into_id is not None or account.verified_at is None
                                or not constant_time_compare(store.get(HASH_KEY, ""), _hash(account))):
        account = None
    request.portal_account = account  # type: ignore[attr-defined]
    return account


def sign_in(request: HttpRequest, account: CustomerAccount) -> None:
    store = _store(request)
    store.cycle_key()  # a new key at sign-in: no session fixation
    rotate_token(request)
    store[ACCOUNT_KEY] = account.pk
    store[HASH_KEY] = _hash(account)
    request.portal_account = account  # type: ignore[attr-defined]


def sign_out(request: HttpRequest) -> None:
    _store(request).flush()
    request.portal_account = None  # type: ignore[attr-defined]


def remember_registration(request: HttpRequest, mark: str) -> None:
    """This browser made the registration `mark` names (accounts.services.Registered)."""
    _store(request)[REGISTERED_KEY] = mark


def registration_mark(request: HttpRequest) -> str:
    """The registration this browser made, once: it is forgotten as it is read."""
    return str(_store(request).pop(REGISTERED_KEY, "") or "")


def save(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Write the customer session and its cookie when it changed (or drop the cookie when it was
    emptied)."""
    store = getattr(request, "portal_session", None)
    if store is None:
        return response
    if store.is_empty():
        if COOKIE in request.COOKIES:
            response.delete_cookie(COOKIE, path="/", samesite="Lax")
        return response
    if store.modified:
        store.set_expiry(AGE)
        store.save()
        response.set_cookie(COOKIE, store.session_key, max_age=AGE, path="/", secure=settings.SESSION_COOKIE_SECURE,
                            httponly=True, samesite="Lax")
    return response


View = Callable[..., HttpResponseBase]


def with_portal_session(view: View) -> View:
    """The customer session is read (for the signed-in customer's language) and written after
    the view."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if COOKIE in request.COOKIES:
            apply_portal_language(request, current_account(request))
        return save(request, view(request, *args, **kwargs))

    return wrapped


def customer_required(view: View) -> View:
    """Signed-in customers only; others go to the sign-in page and come back."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = current_account(request)
        if account is None:
            return save(request, redirect(f"{reverse('portal:login')}?{urlencode({'next': request.get_full_path()})}"))
        apply_portal_language(request, account)
        return save(request, view(request, *args, **kwargs))

    return wrapped
