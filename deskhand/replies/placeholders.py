"""The placeholders of canned responses and macro replies: the automations' own (`{{ item.title }}`,
`{{ requester.name }}`, …: one placeholder language in Deskhand) and the few that only make sense
when an agent writes (`{{ agent.name }}`) or that a greeting wants (`{{ requester.first_name }}`).
Filled in by the automations' `render_template`: text substitution, never a template language."""

from __future__ import annotations

import re

from deskhand.agents.models import Agent
from deskhand.automations.engine import template_values
from deskhand.automations.rules import PLACEHOLDERS, Placeholder, render_template, template_names
from deskhand.core.errors import Invalid
from deskhand.work.models import Item

REPLY_PLACEHOLDERS = (
    *PLACEHOLDERS,
    Placeholder("requester.first_name", "the requester's first name (or address)"),
    Placeholder("agent.name", "your name (the agent replying)"),
    Placeholder("agent.first_name", "your first name"),
)
NAMES = frozenset(placeholder.name for placeholder in REPLY_PLACEHOLDERS)


def check_placeholders(body: str, *, field: str) -> None:
    """Every `{{ name }}` in `body` is a known placeholder; raises Invalid naming the first that is not."""
    for name in template_names(body):
        if name not in NAMES:
            known = ", ".join(sorted(NAMES))
            raise Invalid("unknown_placeholder", f"There is no placeholder “{{{{ {name[:60]} }}}}”; use {known}.",
                          field=field)


def _first(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def reply_values(item: Item, agent: Agent) -> dict[str, str]:
    values = template_values(item)
    requester = item.requester
    values["requester.first_name"] = (_first(requester.name) or requester.email) if requester else ""
    values["agent.name"] = agent.display_name
    values["agent.first_name"] = _first(agent.name) or agent.display_name
    return values


# What makes Markdown a link, an image or HTML. A title or a name comes from the customer: filled
# into a reply as it is, `[Reset your password](https://evil…)` would go out as our own link.
_MARKUP = re.compile(r"([\\`\[\]<>])")


def as_text(value: str) -> str:
    """`value` shown as itself in Markdown: the characters that would make markup escaped."""
    return _MARKUP.sub(r"\\\1", value)


def fill(body: str, item: Item, agent: Agent) -> str:
    """`body` with the item's and the agent's values in place of its placeholders, as plain text."""
    return render_template(body, {name: as_text(value) for name, value in reply_values(item, agent).items()})
