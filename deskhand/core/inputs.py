"""What the typed inputs of the services share: a field left out of a change is UNSET, which is
not None (None is a value: "no project", "no organization")."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, Final, TypeVar, Union


class _Unset(Enum):
    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:  # so that `if changes.notes:` never mistakes "left out" for a value
        raise TypeError("Compare with `is UNSET`.")


UNSET: Final = _Unset.UNSET
T = TypeVar("T")
Maybe = Union[T, _Unset]  # noqa: UP007 - a generic alias: Maybe[str] is `str | UNSET`


def given(changes: Any) -> dict[str, Any]:
    """The fields of a changes dataclass that were given, by name, in declaration order."""
    return {f.name: value for f in dataclasses.fields(changes) if (value := getattr(changes, f.name)) is not UNSET}
