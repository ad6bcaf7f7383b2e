"""`{{ plural|translated }}`: a word the view passes in English (`tickets`, `task`) in the page's
language, for sentences that name what a list holds (`{% blocktranslate with noun=plural|translated %}`).
The words themselves are marked in `deskhand.web.words`."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language, gettext, pgettext

register = template.Library()


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
