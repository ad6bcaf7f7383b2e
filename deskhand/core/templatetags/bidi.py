"""`{{ name|nobidi }}`: a name someone typed (an organization's, a mail's From display name) without
the direction controls that would reverse the text after it (`core.bidi`). A built-in filter: every
template has it."""

from __future__ import annotations

from django import template

from deskhand.core.bidi import without_direction_controls

register = template.Library()


@register.filter(is_safe=True)
def nobidi(value: object) -> object:
    """Leaves non-text (None, a lazy empty value) alone so that `|default:` still works after it."""
    return without_direction_controls(value) if isinstance(value, str) else value
