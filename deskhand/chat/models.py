"""Live chat: a visitor's conversation with the team, from the widget or the portal, until it
ends or becomes a ticket."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ChatStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"
    TICKET = "ticket", "Turned into a ticket"


class ChatSource(models.TextChoices):
    WIDGET = "widget", "Widget"
    PORTAL = "portal", "Portal"


class Author(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"


class Chat(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=254)  # the address the visitor gave (or the signed-in customer's)
    # Started by a customer signed in to the portal: the address is theirs. Otherwise anyone may
    # have typed it, and the console says so.
    signed_in = models.BooleanField(default=False)
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=8, choices=ChatStatus.choices, default=ChatStatus.WAITING)
    source = models.CharField(max_length=8, choices=ChatSource.choices, default=ChatSource.WIDGET)
    # The visitor's token, hashed: the widget holds the token, we never store it.
    token_hash = models.CharField(max_length=64)
    client = models.CharField(max_length=64, blank=True)  # the visitor's address, for the rate limit
    page_url = models.CharField(max_length=500, blank=True)
    accepted_by = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    # Who has the chat now: the accepting agent, or the agent or team it was transferred to.
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team = models.ForeignKey("agents.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ticket = models.ForeignKey("work.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    transcripts_sent = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    waiting_since = models.DateTimeField()  # start, or the moment it was handed to a team
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Index: the console and the sweep read the waiting chats, oldest first.
            models.Index(fields=["waiting_since"], name="chat_waiting_idx", condition=Q(status="waiting")),
            # Index: the rate limit counts a visitor's chats of the last hour.
            models.Index(fields=["client", "created_at"], name="chat_client_idx"),
            models.Index(fields=["email", "created_at"], name="chat_email_idx"),
            # Index: an agent's active chats.
            models.Index(fields=["agent", "status"], name="chat_agent_idx"),
        ]

    def __str__(self) -> str:
        return f"chat {self.pk} with {self.email}"


class ChatMessage(models.Model):
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=8, choices=Author.choices)
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # Index: a stream reads a chat's messages after the last id it sent; the rate limit
            # counts a visitor's messages of the last minute.
            models.Index(fields=["chat", "id"], name="chat_message_after_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.author} in chat {self.chat_id}"
