"""`@name` mentions in internal notes (pure functions). An agent's handles are the part of their
address before the @ and their name without spaces, compared case-insensitively: `@ana` and
`@AnaAgent` both reach Ana Agent <ana@example.com>."""

from __future__ import annotations

import re

# Not inside an address (ana@example.com mentions nobody): a mention starts after a space,
# punctuation or the start of the text. Dots, dashes and plus signs join, but not at the end.
MENTION = re.compile(r"(?<![\w.@+-])@(\w(?:[\w.+-]{0,62}\w)?)")
MAX_MENTIONS = 50


def mentioned_handles(text: str) -> set[str]:
    """The lower-cased handles `text` mentions (at most MAX_MENTIONS)."""
    if "@" not in text:
        return set()
    found: set[str] = set()
    for match in MENTION.finditer(text):
        found.add(match.group(1).lower())
        if len(found) >= MAX_MENTIONS:
            break
    return found


def agent_handles(email: str, name: str) -> set[str]:
    handles = {email.partition("@")[0].lower()}
    compact = "".join(name.split()).lower()
    if compact:
        handles.add(compact)
    return handles


_HANDLE = re.compile(r"\w(?:[\w.+-]{0,62}\w)?")


def mention_handle(email: str, name: str) -> str:
    """The handle to write for an agent: the part of their address before the @, else their name
    without spaces, whichever MENTION reads whole ("" when neither does)."""
    for handle in (email.partition("@")[0], "".join(name.split())):
        if handle and _HANDLE.fullmatch(handle):
            return handle.lower()
    return ""


def excerpt(text: str, *, limit: int = 200) -> str:
    """The note in one line, cut at `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"
