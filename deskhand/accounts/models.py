"""Customers' sign-in to the portal."""

from __future__ import annotations

from django.db import models


class CustomerAccount(models.Model):
    """A customer's sign-in to the portal. The password is hashed as Django hashes agents'. A
    password chosen when registering stays pending until the address is verified by the link in
    the mail, so nobody can claim an address they cannot read."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="account")
    password = models.CharField(max_length=128, blank=True)  # "" until one is set: sign-in links only
    pending_password = models.CharField(max_length=128, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"portal account of customer {self.customer_id}"
