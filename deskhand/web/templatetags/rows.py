"""Tags for the long, repetitive parts of the lists (rows, menus of every project, the project
tree), where each template tag per row counts: built with format_html, which escapes as the
template would."""

from __future__ import annotations

import datetime

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

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
        return format_html('<li class="muted">{}</li>', "No projects")
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


@register.simple_tag
def sla_badge(item: Item) -> SafeString:
    """A small badge on a row whose SLA is at risk or breached (the states that call for action)."""
    try:
        clock = item.sla_clock
    except ItemSla.DoesNotExist:
        return mark_safe("")
    state = sla_state(clock)
    if state not in ("at_risk", "breached"):
        return mark_safe("")
    return format_html('<span class="sla-badge sla-{}" title="SLA {}">SLA {}</span>', state, clock.policy.name,
                       "breached" if state == "breached" else "at risk")
