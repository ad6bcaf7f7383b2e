"""Helpers shared by the management commands: the CLI actor and error mapping."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.management.base import CommandError

from deskhand.core.actors import Actor, ActorKind
from deskhand.core.errors import DomainError

CLI_ACTOR = Actor(ActorKind.SYSTEM, label="command line", is_admin=True)

F = TypeVar("F", bound=Callable[..., Any])


def domain_errors_exit(function: F) -> F:
    """A DomainError ends the command with its message and a non-zero exit code."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except DomainError as exc:
            where = f" ({exc.field})" if exc.field else ""
            raise CommandError(f"{exc.message}{where}") from None

    return wrapper  # type: ignore[return-value]
