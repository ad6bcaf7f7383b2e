"""The views beside the ticket and task lists, in the sidebar of every ticket or task page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from deskhand.work import workspace
from deskhand.work.models import Kind

register = template.Library()


@register.inclusion_tag("web/items/views_nav.html", takes_context=True)
def views_nav(context: dict[str, Any], kind: str) -> dict[str, Any]:
    """The views of `kind`, the current one marked (on a list page); counts arrive after the page."""
    request = context["request"]
    on_list = request.resolver_match is not None and request.resolver_match.url_name == f"{kind}-list"
    if on_list and "named_views" in context:  # the list page read them already
        views, current = context["named_views"], context.get("current_view")
    else:
        views = workspace.views_for(request.user.pk, kind)
        current = workspace.matching_view(views, request.GET.dict()) if on_list else None
    base = reverse(f"web:{kind}-list")
    plural = "tickets" if kind == Kind.TICKET else "tasks"
    return {"views": [{"view": view, "url": f"{base}?{urlencode(dict(view.query))}",
                       "current": current is not None and current.key == view.key} for view in views],
            "kind": kind, "plural": plural, "counts_url": reverse("web:view-counts", kwargs={"plural": plural})}


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """`mapping[key]` in a template (None when absent)."""
    return mapping.get(key) if hasattr(mapping, "get") else None
