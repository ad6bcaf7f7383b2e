"""The typed change of an automation (PATCH): parts left UNSET stay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deskhand.automations.rules import Action, Condition, Trigger
from deskhand.core.inputs import UNSET, Maybe


@dataclass(frozen=True)
class AutomationChanges:
    name: Maybe[str] = UNSET
    trigger: Maybe[Trigger] = UNSET
    all: Maybe[Sequence[Condition]] = UNSET
    any: Maybe[Sequence[Condition]] = UNSET
    actions: Maybe[Sequence[Action]] = UNSET
    enabled: Maybe[bool] = UNSET
    position: Maybe[int] = UNSET
