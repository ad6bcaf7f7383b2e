"""`{{ plural|translated }}`: a word the view passes in English (`tickets`, `task`) in the page's
language, for sentences that name what a list holds (`{% blocktranslate with noun=plural|translated %}`).
The words themselves are marked in `deskhand.web.words`."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def translated(value: object) -> str:
    return gettext(str(value)) if value else ""
