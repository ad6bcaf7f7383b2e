"""What happened to an item, as the work services tell the automation engine. No imports of
the work app: the services build these and hand them over."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deskhand.core.actors import Actor


@dataclass(frozen=True)
class ItemEvent:
    """`type` is a trigger type: created, updated, customer_replied, agent_replied, elapsed.
    `changes`: for an update, each changed condition field's (old, new)."""

    item_id: int
    type: str
    actor: Actor
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    automation_id: int | None = None  # elapsed: the rule whose time came
    # What the rules are looked up by, when the service knows it: then an event no rule can fire
    # costs one indexed read and nothing more.
    kind: str = ""
    organization_id: int | None = None
