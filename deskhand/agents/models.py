from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower

from deskhand.core.bidi import without_direction_controls


class AgentManager(BaseUserManager["Agent"]):
    def get_by_natural_key(self, username: str | None) -> Agent:
        # Sign-in compares addresses case-insensitively, as everywhere else in Deskhand.
        return self.get(email__iexact=(username or "").strip())


class Agent(AbstractBaseUser):
    """A member of the team: signs in to the agents' app, owns API tokens."""

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=200, blank=True)
    is_admin = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Profile (set by the agent on /profile). The signature is plain text / Markdown that the reply
    # box appends; its length is bounded by the service (SIGNATURE_MAX_CHARS in agents.services).
    signature = models.TextField(blank=True)
    # A code from settings.LANGUAGES; "" = the browser's language.
    language = models.CharField(max_length=16, blank=True)
    # A zoneinfo name; "" = the help desk's time zone (settings.TIME_ZONE).
    time_zone = models.CharField(max_length=64, blank=True)

    objects = AgentManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]  # the stubs declare it a ClassVar

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="agent_email_unique_ci")]

    def __str__(self) -> str:
        return self.name or self.email

    # Deskhand has no per-permission model: admins may do everything, agents the daily work.
    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return self.is_active and self.is_admin

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_active and self.is_admin

    @property
    def display_name(self) -> str:
        """The name shown, without direction overrides (a name must not reverse the text after it)."""
        return without_direction_controls(self.name) or self.email


class Team(models.Model):
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(Agent, related_name="teams", blank=True)
    # Optional: where the team is reached (shown with the team; notifications use it later).
    email = models.EmailField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="team_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the plain token is shown once."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.agent})"


class SignInFailure(models.Model):
    """One wrong password on the sign-in page, kept for the limiter's window (deskhand.agents.ratelimit).
    In the database so that every process of a deployment counts the same failures."""

    account = models.CharField(max_length=254)  # the address tried, lower-cased
    client = models.CharField(max_length=64)  # the client's IP address
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            # Index: the limiter counts one account's or one client's recent failures on every sign-in.
            models.Index(fields=["account", "created_at"], name="signinfail_account_idx"),
            models.Index(fields=["client", "created_at"], name="signinfail_client_idx"),
            models.Index(fields=["created_at"], name="signinfail_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account} from {self.client} at {self.created_at:%Y-%m-%d %H:%M}"
