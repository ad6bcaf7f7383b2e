"""Filters for the rows of long lists, where each template tag per row counts."""

from __future__ import annotations

import datetime

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def updated_time(moment: datetime.datetime, today: datetime.date) -> SafeString:
    """`<time>` showing the hour for today and the day otherwise, with the full time as its title:
    one conversion to local time instead of four `date` filters."""
    local = timezone.localtime(moment)
    short = f"{local:%H:%M}" if local.date() == today else dateformat.format(local, "M j")  # month names translate
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(), f"{local:%Y-%m-%d %H:%M}", short)
