"""Tags for the long, repetitive parts of the lists (rows, menus of every project, the project
tree), where each template tag per row counts: built with format_html, which escapes as the
template would."""

from __future__ import annotations

import datetime

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from deskhand.sla.models import ItemSla
from deskhand.sla.services import sla_state
from deskhand.work.models import Folder, Item, Project
from deskhand.work.queries import ProjectNode

register = template.Library()


@register.filter
def updated_time(moment: datetime.datetime, today: datetime.date) -> SafeString:
    """`<time>` showing the hour for today and the day otherwise, with the full time as its title:
    one conversion to local time instead of four `date` filters."""
    local = timezone.localtime(moment)
    short = f"{local:%H:%M}" if local.date() == today else dateformat.format(local, "M j")  # month names translate
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(), f"{local:%Y-%m-%d %H:%M}", short)


@register.simple_tag
def project_options(projects: list[Project], selected: str) -> SafeString:
    """The `<option>`s of a project select: a help desk may have hundreds of projects."""
    return format_html_join("", '<option value="{}"{}>{}</option>', (
        (project.pk, mark_safe(" selected") if str(project.pk) == selected else "", project.name)
        for project in projects))


@register.simple_tag
def move_options(groups: list[tuple[Project, list[Folder]]]) -> SafeString:
    """The bulk "move to" select: each project, then its folders, as optgroups."""
    return format_html_join("", '<optgroup label="{}"><option value="project:{}">{}</option>{}</optgroup>', (
        (project.name, project.pk, project.name, format_html_join(
            "", '<option value="folder:{}">{} / {}</option>', ((f.pk, project.name, f.name) for f in folders)))
        for project, folders in groups))


def _current(flag: bool) -> SafeString:
    return mark_safe(' aria-current="true"') if flag else mark_safe("")


@register.simple_tag
def project_tree(nodes: list[ProjectNode], tree_query: str, project: str, folder: str) -> SafeString:
    """The projects of a portfolio with their folders and open counts, as nested links (the By
    portfolio tree shows every project and folder: hundreds of links)."""
    if not nodes:
        return format_html('<li class="muted">{}</li>', gettext("No projects"))
    items = []
    for node in nodes:
        pk = str(node.project.pk)
        folders = format_html_join("", '<li><a href="?{}&amp;project={}&amp;folder={}"{}>{}</a> '
                                   '<span class="count" title="not done">{}</span></li>', (
                                       (tree_query, pk, f.pk, _current(folder == str(f.pk)), f.name, n)
                                       for f, n in node.folders))
        items.append(format_html(
            '<li><a href="?{}&amp;project={}"{}>{}</a> <span class="count" title="not done">{}</span>{}</li>',
            tree_query, pk, _current(project == pk and not folder), node.project.name, node.count,
            format_html("<ul>{}</ul>", folders) if node.folders else ""))
    return mark_safe("".join(items))  # noqa: S308 - each part is built by format_html


def _short(delta: datetime.timedelta) -> str:
    """A wait as an agent reads it at a glance: 25 min, 3 h 10 min, 2 d 4 h."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _next_due(clock: ItemSla) -> tuple[str, datetime.datetime | None]:
    if clock.first_response_due is not None and clock.first_responded_at is None:
        return gettext("first response"), clock.first_response_due
    if clock.resolution_due is not None and clock.resolved_at is None:
        return gettext("resolution"), clock.resolution_due
    return "", None


@register.simple_tag
def sla_badge(item: Item) -> SafeString:
    """On a row with an SLA: the time left to its next target (at risk and breached stand out)."""
    try:
        clock = item.sla_clock
    except ItemSla.DoesNotExist:
        return mark_safe("")
    now = timezone.now()
    state = sla_state(clock, now=now)
    if state == "met":
        return mark_safe("")
    if state == "paused":
        return format_html('<span class="sla-badge sla-paused" title="{}">{}</span>',
                           gettext("SLA %(name)s: paused") % {"name": clock.policy.name}, gettext("SLA paused"))
    target, due = _next_due(clock)
    if state == "breached":
        title = (gettext("SLA %(name)s: breached, %(late)s over") if due is not None and due < now
                 else gettext("SLA %(name)s: breached"))
        return format_html('<span class="sla-badge sla-breached" title="{}">{}</span>',
                           title % {"name": clock.policy.name, "late": _short(now - due) if due else ""},
                           gettext("SLA breached"))
    if due is None:
        return mark_safe("")
    title = gettext("SLA %(name)s: %(target)s due %(due)s") % {
        "name": clock.policy.name, "target": target, "due": f"{timezone.localtime(due):%Y-%m-%d %H:%M}"}
    return format_html('<span class="sla-badge sla-{}" title="{}">{}</span>', state, title,
                       gettext("%(time)s left") % {"time": _short(due - now)})
