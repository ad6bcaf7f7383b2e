"""Direction controls in names (pure functions): a right-to-left override in a name shown to agents
reverses the text after it ("gpj.exe" tricks, a name that reads as another), so display drops them."""

from __future__ import annotations

import re

# Embeddings and overrides (U+202A-202E), isolates (U+2066-2069) and the marks (U+200E/F). None
# belongs in a name: right-to-left names display right on their own, and the marks only matter
# inside mixed-direction prose, which names are not.
_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def without_direction_controls(text: str) -> str:
    """`text` with its bidirectional controls removed, for display next to other text."""
    return _CONTROLS.sub("", text) if text else text
