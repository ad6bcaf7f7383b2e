"""CSV that spreadsheets open safely (pure functions): every text cell that a spreadsheet would
run as a formula gets a leading apostrophe (OWASP "CSV injection"), and the import takes it off."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

# A cell a spreadsheet reads as a formula starts with = + - @, a tab or a carriage return. One
# already starting with apostrophes before such a character gets one more, so that the import,
# which removes exactly one, gives back what was exported.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"^'+[=+\-@\t\r]")


def neutralise(value: Any) -> Any:
    """A text cell made safe to open in a spreadsheet; other values (numbers) are left alone."""
    if isinstance(value, str) and _FORMULA.match(value):
        return f"'{value}"
    return value


def restore(value: str) -> str:
    """The inverse of `neutralise` for a cell read back from a CSV file (an import of an export)."""
    return value[1:] if _NEUTRALISED.match(value) else value


class SafeWriter:
    """`csv.writer` whose every text cell is neutralised; `writerow` returns the written line."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self._writer = csv.writer(out if out is not None else _Echo())

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Each row as one neutralised CSV line, for a streamed response."""
    writer = SafeWriter()
    for row in rows:
        yield writer.writerow(row)
