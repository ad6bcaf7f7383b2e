"""The typed input of a custom field's change; its key and type never change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deskhand.core.inputs import UNSET, Maybe


@dataclass(frozen=True)
class FieldChanges:
    label: Maybe[str] = UNSET
    required: Maybe[bool] = UNSET
    choices: Maybe[Sequence[str]] = UNSET
    help_text: Maybe[str] = UNSET
    position: Maybe[int] = UNSET
