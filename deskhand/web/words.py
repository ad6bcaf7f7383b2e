"""Words views hand to templates in English (a kind, a list's plural) that the templates show
translated with `|translated` (`deskhand.web.templatetags.words`): marked here so `makemessages`
finds them."""

from __future__ import annotations

from django.utils.translation import gettext_noop, pgettext_lazy

WORDS = (
    gettext_noop("tickets"), gettext_noop("tasks"), gettext_noop("Tickets"), gettext_noop("Tasks"),
    # What became of a row of a customer import (deskhand.imports).
    gettext_noop("created"), gettext_noop("matched"), gettext_noop("error"),
)

# The built-in views (deskhand.work.workspace.BUILT_IN): shown with `|view_name`; saved views keep the
# names agents gave them.
VIEW_NAMES = (
    gettext_noop("My open"), gettext_noop("Unassigned"), gettext_noop("Waiting on customer"),
    gettext_noop("Breaching soon"), gettext_noop("Recently updated by customers"),
)

# Priorities (deskhand.work.models.Priority) and channels, shown with `|translated`.
CHOICE_WORDS = (
    gettext_noop("Low"), gettext_noop("Normal"), gettext_noop("High"), gettext_noop("Urgent"),
    gettext_noop("Web"), gettext_noop("API"), gettext_noop("Email"), gettext_noop("Portal"), gettext_noop("Form"),
    gettext_noop("Chat"), gettext_noop("Ticket"), gettext_noop("Task"),
)

# The default workflow's statuses (deskhand.work.services.statuses.DEFAULT_WORKFLOW), shown with
# `|status_label` while an admin has not renamed them.
STATUS_WORDS = (
    pgettext_lazy("status", "New"), pgettext_lazy("status", "Open"), pgettext_lazy("status", "Pending"),
    pgettext_lazy("status", "Done"),
)

# The reports' pickers (deskhand.reports.inputs: GroupBy, Preset) and the SLA report's groupings.
REPORT_WORDS = (
    gettext_noop("No grouping"), gettext_noop("Organization"), gettext_noop("Agent"), gettext_noop("Channel"),
    gettext_noop("Month"), gettext_noop("Last 7 days"), gettext_noop("Last 30 days"), gettext_noop("Last 90 days"),
    gettext_noop("This year"), gettext_noop("Custom"),
    # A survey's answer in the satisfaction chart.
    gettext_noop("good"), gettext_noop("okay"), gettext_noop("bad"),
)

# A kind of thing in a sentence ("New ticket automation", "Save customer panel"): `|kind_word`.
KIND_WORDS = (
    pgettext_lazy("kind", "ticket"), pgettext_lazy("kind", "task"), pgettext_lazy("kind", "project"),
    pgettext_lazy("kind", "timesheet"), pgettext_lazy("kind", "customer"), pgettext_lazy("kind", "organization"),
    pgettext_lazy("kind", "portfolio"), pgettext_lazy("kind", "folder"),
)
