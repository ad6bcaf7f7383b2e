"""Words views hand to templates in English (a kind, a list's plural) that the templates show
translated with `|translated` (`deskhand.web.templatetags.words`): marked here so `makemessages`
finds them."""

from __future__ import annotations

from django.utils.translation import gettext_noop

WORDS = (
    gettext_noop("tickets"), gettext_noop("tasks"), gettext_noop("Tickets"), gettext_noop("Tasks"),
    # What became of a row of a customer import (deskhand.imports).
    gettext_noop("created"), gettext_noop("matched"), gettext_noop("error"),
)
