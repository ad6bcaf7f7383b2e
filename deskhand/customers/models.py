from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from deskhand.core.bidi import without_direction_controls


class Source(models.TextChoices):
    """Where a record came from."""

    AGENT = "agent", "Agent (web app)"
    API = "api", "REST API"
    CSV = "csv", "CSV import"
    CLI = "cli", "Command line"
    EMAIL = "email", "Email"
    PORTAL = "portal", "Customer portal"
    FORM = "form", "Web form"
    CHAT = "chat", "Live chat"
    AUTO = "auto", "Created by the domain rule"


class Organization(models.Model):
    """A company or department whose people Deskhand serves."""

    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.AGENT)
    # What its members see in the portal (config PORTAL_VISIBILITY); "" follows the global setting.
    portal_visibility = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="organization_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class OrganizationDomain(models.Model):
    """An email domain an organization owns; a domain has at most one owner (the unique key)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)  # ASCII (IDNA), lower case
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class CustomerType(models.Model):
    name = models.CharField(max_length=100)
    color = models.CharField(max_length=7, default="#6b7280")
    visible = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="customer_type_name_unique_ci")]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class CustomerQuerySet(models.QuerySet["Customer"]):
    def live(self) -> CustomerQuerySet:
        """Customers that were not merged into another."""
        return self.filter(merged_into__isnull=True)


class Customer(models.Model):
    """A person Deskhand serves. Only the email address is required."""

    email = models.CharField(max_length=254)  # local part as typed, domain normalised
    email_key = models.CharField(max_length=254, unique=True)  # lower case: uniqueness ignores case
    domain = models.CharField(max_length=253)
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    language = models.CharField(max_length=16, blank=True)
    notes = models.TextField(blank=True)
    customer_type = models.ForeignKey(
        CustomerType, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    # Indexed by customer_org_merged_idx below, which also answers the "No organization" count.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers", db_index=False
    )
    # True once an agent chose the organization (or "No organization"): rules never move them.
    placed_manually = models.BooleanField(default=False)
    custom_fields = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    # A merged customer stays as a pointer so that their address still finds the survivor.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        indexes = [
            # Index: an organization's customer list (and "No organization"), ordered by address,
            # and its count; partial so that merged addresses never need reading.
            models.Index(fields=["organization", "email_key"], name="customer_live_org_email_idx",
                         condition=models.Q(merged_into__isnull=True)),
            # Index: the foreign key's own index, and the live count of an organization or of "No
            # organization" read from it alone (SQLite counted 15 000 table rows through the plain
            # foreign-key index, which does not hold merged_into).
            models.Index(fields=["organization", "merged_into"], name="customer_org_merged_idx"),
            # Index: the "No organization" page in address order, and its count, on PostgreSQL
            # without statistics too (it matched organization IS NULL to the index above and sorted).
            models.Index(fields=["email_key"], name="customer_no_org_email_idx",
                         condition=models.Q(organization__isnull=True, merged_into__isnull=True)),
            # Index: adding a domain finds that domain's unassigned customers.
            models.Index(fields=["domain"], name="customer_domain_idx"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        """The name shown, without direction overrides (a name must not reverse the text after it)."""
        return without_direction_controls(self.name) or self.email

