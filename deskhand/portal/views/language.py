"""The portal footer's language switcher: the choice is kept in this browser (a cookie) and, for a
signed-in customer, saved as the customer's language, which their mails use too."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from deskhand.accounts.services import set_language
from deskhand.core.actors import Actor
from deskhand.core.errors import DomainError
from deskhand.core.i18n import CUSTOMER_PATHS
from deskhand.portal.sessions import current_account, with_portal_session


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")[:2000]
    if target.startswith(CUSTOMER_PATHS) and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/portal/"


@require_POST
@with_portal_session
def choose_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")[:16]
    response = redirect(_back(request))
    account = current_account(request)
    try:
        if account is not None:
            set_language(account.customer, language, actor=Actor.customer(account.customer.email))
        elif language not in dict(settings.LANGUAGES):
            return response
    except DomainError:  # not one we offer: the page stays as it was
        return response
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE, path="/",
                        samesite="Lax", secure=request.is_secure(), httponly=True)
    return response
