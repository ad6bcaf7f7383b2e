"""Who did it: every write takes an Actor and every audit row names one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class _Person(Protocol):
    """What an actor needs of an agent (core imports no models)."""

    pk: Any
    email: str


class _Token(Protocol):
    pk: Any
    name: str


class ActorKind(StrEnum):
    AGENT = "agent"
    TOKEN = "token"
    RULE = "rule"
    SYSTEM = "system"
    CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    label: str
    agent_id: int | None = None
    token_id: int | None = None
    is_admin: bool = False

    @classmethod
    def agent(cls, agent: _Person) -> Actor:
        return cls(
            ActorKind.AGENT,
            label=str(agent.email),
            agent_id=agent.pk,
            is_admin=bool(getattr(agent, "is_admin", False)),
        )

    @classmethod
    def token(cls, token: _Token, agent: _Person) -> Actor:
        return cls(
            ActorKind.TOKEN,
            label=f"{agent.email} (API token {token.name or token.pk})",
            agent_id=agent.pk,
            token_id=token.pk,
            is_admin=bool(getattr(agent, "is_admin", False)),
        )

    @classmethod
    def rule(cls, name: str) -> Actor:
        return cls(ActorKind.RULE, label=name)

    @classmethod
    def customer(cls, email: str) -> Actor:
        return cls(ActorKind.CUSTOMER, label=email)


SYSTEM = Actor(ActorKind.SYSTEM, label="system", is_admin=True)
