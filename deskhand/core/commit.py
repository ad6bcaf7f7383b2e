"""Side effects after a commit that must not undo what was committed.

`transaction.on_commit(..., robust=True)` logs an exception instead of raising it, except that
Django names the failing callable by its `__qualname__`, which a `functools.partial` lacks: the
AttributeError then escapes in place of the error (a mail stored, then answered 451 because
Redis was down). `after_commit` gives the callback a name and logs the failure itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger("deskhand.commit")


def after_commit(function: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """Call `function(*args, **kwargs)` once the current transaction commits (at once outside
    one); an exception is logged, never raised: what it would have done, a sweep does later."""
    name = getattr(function, "__qualname__", repr(function))

    def call() -> None:
        try:
            function(*args, **kwargs)
        except Exception:  # noqa: BLE001 - committed is committed; the sweeps catch up
            log.exception("after commit: %s failed", name)

    call.__qualname__ = f"after_commit({name})"
    transaction.on_commit(call)
