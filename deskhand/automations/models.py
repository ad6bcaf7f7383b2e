"""Automations and what they leave behind. A rule is stored as its API shape (trigger,
conditions, actions as JSON), read into `rules.Rule` values; `organization` copies the
organization an `all` condition pins it to, so that a new ticket finds its organization's rules
through an index instead of reading every organization's routing."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Automation(models.Model):
    name = models.CharField(max_length=200)
    item_kind = models.CharField(max_length=16)
    trigger = models.JSONField(default=dict)
    conditions = models.JSONField(default=dict)
    actions = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    # Copied from the rule's conditions (rules.Rule.organization): the routing index.
    organization = models.ForeignKey("customers.Organization", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="automations", db_index=False)
    # The organization's routing section (at most one per organization), shown on its profile.
    routing = models.BooleanField(default=False)
    # Failures in a row at run time; the rule is switched off at MAX_FAILURES.
    failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # For round robin: the agent a team rule assigned last.
    last_assigned_agent_id = models.BigIntegerField(null=True, blank=True)
    # One of the samples a fresh install ships (automations.samples), by key; "" for the rest.
    sample = models.CharField(max_length=40, blank=True)
    # Time-based rules: every moment up to this one has been swept (None: never; sweep them all).
    swept_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item_kind", "position", "id"]
        indexes = [
            # Index: the rules an event may fire: one kind's enabled rules for no organization or
            # for the organizations of a batch.
            models.Index(fields=["item_kind", "enabled", "organization", "position"], name="automation_lookup_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization"], condition=Q(routing=True), name="automation_one_routing"),
        ]

    def __str__(self) -> str:
        return self.name


class Firing(models.Model):
    """A time-based rule fired for an item: it fires once per item (and again only after the
    moment it counts from moved, such as a new customer message). Unique, so that two schedulers
    never both fire it."""

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("work.Item", on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField()
    fired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["automation", "item", "since"], name="firing_once"),
        ]

    def __str__(self) -> str:
        return f"automation {self.automation_id} on item {self.item_id} for {self.since:%Y-%m-%d %H:%M}"
