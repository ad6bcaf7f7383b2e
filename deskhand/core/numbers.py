"""Whole numbers from people and machines (pure functions).

Python's `int()` accepts far more than a form or query string should carry: Unicode digits
(`int("١٢") == 12`, and `"²".isdigit()` is true while `int("²")` raises), underscores
(`int("1_000")`), surrounding whitespace, and numbers of any size, which SQLite cannot even
compare (an OverflowError) and PostgreSQL refuses for a bigint column. Every integer read from a
request goes through here: ASCII digits only, bounded to what a database id can hold.
"""

from __future__ import annotations

import re

from deskhand.core.errors import Invalid

MAX_ID = 2**63 - 1
# 19 digits hold every 64-bit id; longer text is refused before `int()` sees it.
_DIGITS = re.compile(r"[0-9]{1,19}")
_SIGNED = re.compile(r"-?[0-9]{1,19}")


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def parse_int(value: object, *, field: str, minimum: int = 0, maximum: int = MAX_ID,
              message: str | None = None) -> int:
    """`value` (an int, or text of ASCII digits, a minus sign allowed when `minimum` < 0) as an
    int within `minimum`..`maximum`; anything else raises Invalid naming `field`."""
    text = message or f"{_label(field)} is a whole number from {minimum} to {maximum}."
    if isinstance(value, bool):
        raise Invalid(f"invalid_{field}", text, field=field)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and (_SIGNED if minimum < 0 else _DIGITS).fullmatch(value):
        number = int(value)
    else:
        raise Invalid(f"invalid_{field}", text, field=field)
    if not minimum <= number <= maximum:
        raise Invalid(f"invalid_{field}", text, field=field)
    return number


def parse_id(value: object, *, field: str, what: str | None = None) -> int:
    """A record id (1 … 2**63-1) from an int or ASCII digits; anything else raises Invalid."""
    name = what or _label(field)
    return parse_int(value, field=field, minimum=1, message=f"{name} is given by its id (a number).")


def id_or_none(value: object) -> int | None:
    """A record id, or None for anything that is not one: for lookups where "not an id" means
    "matches nothing" (a stale link, a hand-edited query string)."""
    try:
        return parse_id(value, field="id")
    except Invalid:
        return None


def int_or_default(value: object, default: int, *, minimum: int = 1, maximum: int = 1_000_000) -> int:
    """A page number, offset and the like: the number if it is one within bounds, else `default`."""
    try:
        return parse_int(value, field="number", minimum=minimum, maximum=maximum)
    except Invalid:
        return default


def parse_ids(text: str, *, field: str, what: str | None = None) -> list[int]:
    """Comma-separated ids (`3,4`); at least one, each an id."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise Invalid(f"invalid_{field}", f"{what or _label(field)} is given by its id (a number).", field=field)
    return [parse_id(part, field=field, what=what) for part in parts]


class IdConverter:
    """The `<id:...>` path converter (`{id:...}` in the API): ASCII digits that fit a 64-bit id.
    Django's `<int:...>` matches any run of digits, and a 25-digit id then fails in the database
    (a 500); a number past the range here matches no route, a 404."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)
