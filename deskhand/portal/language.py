"""The portal's language: a signed-in customer's own, else the one chosen in this browser, else
the browser's (deskhand.core.i18n activates the last two for every customer page). A customer
without a language learns the one their browser asks for on their first visit."""

from __future__ import annotations

from django.http import HttpRequest

from deskhand.accounts.models import CustomerAccount
from deskhand.accounts.services import learn_language
from deskhand.core.i18n import browser_language, chosen_language, supported_language, use_language
from deskhand.customers.models import Customer


def apply_customer_language(request: HttpRequest, customer: Customer) -> None:
    """Show the page in `customer`'s language, when they have one."""
    own = supported_language(customer.language)
    if own:
        use_language(request, own)


def apply_portal_language(request: HttpRequest, account: CustomerAccount | None) -> None:
    """The signed-in customer's language for this page, or learn it from this browser."""
    if account is None:
        return
    customer = account.customer
    if not customer.language:
        learn_language(customer, chosen_language(request) or browser_language(request))
    apply_customer_language(request, customer)


def survey_language(request: HttpRequest, customer: Customer | None) -> None:
    """The survey page (no sign-in): a language chosen in this browser, else the customer's (their
    survey mail was in it), else the browser's."""
    if customer is not None and not chosen_language(request):
        apply_customer_language(request, customer)
