"""`{{ plural|translated }}`: a word the view passes in English (`tickets`, `task`) in the page's
language, for sentences that name what a list holds (`{% blocktranslate with noun=plural|translated %}`).
The words themselves are marked in `deskhand.web.words`."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language, gettext, pgettext

register = template.Library()

# The default workflow (deskhand.work.services.statuses.DEFAULT_WORKFLOW): key → label.
DEFAULT_STATUSES = {"new": "New", "open": "Open", "pending": "Pending", "done": "Done"}


@register.filter
def translated(value: object) -> str:
    return gettext(str(value)) if value else ""


@register.filter
def kind_word(value: object) -> str:
    """`ticket`, `task`, `customer`... as a word inside a sentence, in the page's language."""
    return pgettext("kind", str(value)) if value else ""


@register.filter
def in_sentence(value: object) -> str:
    """A label (`Organization`) translated, as a word inside a sentence: lower case, except in German,
    which writes nouns with a capital letter."""
    text = gettext(str(value)) if value else ""
    return text if (get_language() or "").startswith("de") else text.lower()


@register.filter
def view_name(view: Any) -> str:
    """A view's name: a built-in view's in the page's language, a saved view's as its owner wrote it."""
    return str(view.name) if getattr(view, "saved", None) else gettext(str(view.name))


@register.filter
def status_label(status: Any) -> str:
    """A status' name: the default workflow's in the page's language while its label is the default
    one; a label an admin wrote stays as written."""
    label = str(getattr(status, "label", "") or "")
    if label and DEFAULT_STATUSES.get(str(getattr(status, "key", ""))) == label:
        return pgettext("status", label)
    return label
