"""Reads of customer accounts."""

from __future__ import annotations

from deskhand.accounts.models import CustomerAccount
from deskhand.customers.models import Customer


def account_of_customer(customer: Customer) -> CustomerAccount | None:
    return CustomerAccount.objects.filter(customer=customer).first()
