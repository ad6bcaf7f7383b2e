from __future__ import annotations

from django.db import models
from django.db.models import Q


class Kind(models.TextChoices):
    TICKET = "ticket", "Ticket"
    TASK = "task", "Task"


class Category(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    DONE = "done", "Done"


class Priority(models.IntegerChoices):
    # Integers so that "sort by priority" is an index-friendly ORDER BY; the API speaks in keys.
    LOW = 10, "Low"
    NORMAL = 20, "Normal"
    HIGH = 30, "High"
    URGENT = 40, "Urgent"

    @property
    def key(self) -> str:
        return self.name.lower()


class Channel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    EMAIL = "email", "Email"
    PORTAL = "portal", "Portal"
    FORM = "form", "Form"
    CHAT = "chat", "Chat"


class Status(models.Model):
    """One step of the workflow of tickets or of tasks; `category` says what it means to the rest
    of the system (reports, SLA clocks, the portal)."""

    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=60)
    category = models.CharField(max_length=8, choices=Category.choices)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="status_key_unique_per_kind")]
        ordering = ["kind", "position", "id"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


def reference(item_id: int) -> str:
    """How people name an item: `#123`."""
    return f"#{item_id}"


class Item(models.Model):
    """A ticket (submitted by a customer) or a task (created by the team). Its reference is `#id`."""

    kind = models.CharField(max_length=8, choices=Kind.choices)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="+")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    # Indexed by item_requester_idx (requester first), which serves the foreign key's lookups too.
    requester = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="requested_items",
        db_index=False,
    )
    # Fixed at submission: moving the customer later does not move their past requests.
    organization = models.ForeignKey(
        "customers.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    project = models.ForeignKey("work.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    folder = models.ForeignKey("work.Folder", null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    # A task made from a ticket ("further steps stemming from a ticket"): the ticket it serves.
    origin = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    # The ticket address a mail came in on, fixed at submission (what routing rules test).
    mailbox = models.ForeignKey("mail.Mailbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                db_index=False)
    custom_fields = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="created_items"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The moments time-based automations count from (kept by the work services).
    status_changed_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_reply_at = models.DateTimeField(null=True, blank=True)
    # What the reports measure from `created_at`, each set once by the work services and never
    # cleared: the first agent reply (a `reply` message, not a note) and the first time the status
    # reached the done category (a reopened item keeps it: resolution is the first solve).
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    # The same two as whole seconds from `created_at`, set with them: what the response-time report
    # sorts (on SQLite, parsing two dates per ticket took two thirds of the report's time).
    first_response_seconds = models.IntegerField(null=True, blank=True)
    resolution_seconds = models.IntegerField(null=True, blank=True)

    # The rows of a list or page: filled by work.queries.with_row_data (a prefetch to a list).
    assignee_rows: list[Assignee]
    follower_rows: list[Follower]

    class Meta:
        indexes = [
            # Index: every list is one kind, newest first, optionally narrowed by one filter.
            models.Index(fields=["kind", "-id"], name="item_kind_idx"),
            models.Index(fields=["kind", "status", "-id"], name="item_status_idx"),
            # Index: status and priority together (an agent's "open, high"): the page in order and its
            # count from the index alone (the count read 34 000 open rows for their priority).
            models.Index(fields=["kind", "status", "priority", "-id"], name="item_status_priority_idx"),
            models.Index(fields=["kind", "organization", "-id"], name="item_organization_idx"),
            models.Index(fields=["kind", "project", "folder", "-id"], name="item_project_idx"),
            # Index: the By portfolio tree counts open items per project and folder from the index alone.
            # Partial, so that no list without a project filter can pick it (and sort every ticket).
            models.Index(fields=["kind", "project", "folder", "status"], condition=Q(project__isnull=False),
                         name="item_tree_idx"),
            models.Index(fields=["requester", "-id"], name="item_requester_idx"),
            models.Index(fields=["kind", "priority", "-id"], name="item_priority_idx"),
            models.Index(fields=["kind", "-updated_at"], name="item_updated_idx"),
            # Index: the customer portal lists a customer's requests and their organization's by activity.
            models.Index(fields=["requester", "-updated_at"], name="item_requester_updated_idx"),
            models.Index(fields=["organization", "-updated_at"], name="item_org_updated_idx"),
            # Index: the time-based automations' sweep, one per moment it counts from.
            models.Index(fields=["kind", "status_changed_at"], name="item_status_changed_idx"),
            models.Index(fields=["kind", "last_customer_message_at"], name="item_customer_message_idx"),
            models.Index(fields=["kind", "last_agent_reply_at"], name="item_agent_reply_idx"),
            # Index: the reports read a period from these two alone (index-only): the created per day
            # and per organization or channel and the response times of the tickets created in it;
            # the solved (done now, by the moment they got there) per day, per organization or
            # channel, and the open count at any moment.
            models.Index(fields=["kind", "created_at", "organization", "channel", "first_response_seconds",
                                 "resolution_seconds"], name="item_report_idx"),
            models.Index(fields=["kind", "status", "status_changed_at", "organization", "channel"],
                         name="item_solved_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return reference(self.pk)

    @property
    def priority_key(self) -> str:
        return Priority(self.priority).key


class Assignee(models.Model):
    """An agent or a team an item is assigned to."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignees")
    # The item's kind, copied (an item never changes kind), so that an agent's tickets are counted
    # from the assignee index alone: through the items it was one probe per assignment (25 ms for
    # an agent with 9 000 tickets on PostgreSQL).
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Indexed by assignee_agent_idx and assignee_team_idx below (the foreign key's lookups too).
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                              db_index=False)
    team = models.ForeignKey("agents.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             db_index=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(agent__isnull=False, team__isnull=True) | Q(agent__isnull=True, team__isnull=False),
                name="assignee_agent_xor_team",
            ),
            # A row written without the item's kind would drop out of every count.
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="assignee_kind_known"),
            models.UniqueConstraint(fields=["item", "agent"], condition=Q(agent__isnull=False), name="assignee_agent_once"),
            models.UniqueConstraint(fields=["item", "team"], condition=Q(team__isnull=False), name="assignee_team_once"),
        ]
        indexes = [
            # Index: "assigned to me" lists start from the agent; the page in item order and the
            # count of one kind are read from it alone.
            models.Index(fields=["agent", "kind", "item"], name="assignee_agent_kind_idx"),
            models.Index(fields=["team", "kind", "item"], name="assignee_team_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} → agent {self.agent_id}" if self.agent_id else f"{self.item_id} → team {self.team_id}"


class Follower(models.Model):
    """A customer or an agent who hears about an item's conversation from the moment they follow."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="followers")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="followed_items"
    )
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(agent__isnull=False, customer__isnull=True)
                | Q(agent__isnull=True, customer__isnull=False),
                name="follower_agent_xor_customer",
            ),
            models.UniqueConstraint(
                fields=["item", "customer"], condition=Q(customer__isnull=False), name="follower_customer_once"
            ),
            models.UniqueConstraint(fields=["item", "agent"], condition=Q(agent__isnull=False), name="follower_agent_once"),
        ]
        indexes = [
            # Index: a customer's profile lists the items they follow.
            models.Index(fields=["customer", "item"], name="follower_customer_idx"),
        ]

    def __str__(self) -> str:
        who = f"customer {self.customer_id}" if self.customer_id else f"agent {self.agent_id}"
        return f"{self.item_id} followed by {who}"
