"""Administration → Customer apps → Widget: the script tag to copy, which apps it offers, the web
form its request tab shows, the sites allowed to use it, and a live preview on a sample page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from deskhand.config.queries import get_settings
from deskhand.config.services import MAX_WIDGET_ORIGINS, update_settings
from deskhand.core.errors import DomainError
from deskhand.web.access import actor, admin_required
from deskhand.web.http import AgentRequest
from deskhand.webforms.models import WebForm

APPS = [("kb", gettext_lazy("Knowledge base search")), ("request", gettext_lazy("Request form")),
        ("chat", gettext_lazy("Live chat"))]


def snippet() -> str:
    return f'<script src="{settings.PUBLIC_ORIGIN}{reverse("widget:script")}" async></script>'


def widget_context() -> dict[str, Any]:
    """What the widget's section of Administration → Customer apps shows."""
    values = get_settings()
    return {"widget": {
        "enabled": values["widget_enabled"], "apps": values["widget_apps"], "form": values["widget_form"],
        "label": values["widget_label"], "origins": "\n".join(values["widget_origins"]),
        "snippet": snippet(), "choices": APPS, "max_origins": MAX_WIDGET_ORIGINS,
        "forms": list(WebForm.objects.filter(enabled=True, require_sign_in=False).order_by("title")
                      .values_list("slug", "title")[:200]),
    }}


@require_POST
@admin_required
def save_widget(request: AgentRequest) -> HttpResponse:
    data = request.POST
    origins = [line.strip() for line in data.get("origins", "")[:20_000].splitlines() if line.strip()]
    try:
        update_settings({"widget_enabled": data.get("enabled") == "on",
                         "widget_apps": [app for app in data.getlist("apps")[:10]],
                         "widget_form": data.get("form", "")[:60], "widget_label": data.get("label", "")[:200],
                         "widget_origins": origins[:MAX_WIDGET_ORIGINS + 1]}, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Widget saved. Sites that show it pick up the change on their next page."))
    return redirect(f"{reverse('web:admin-apps')}#widget-title")


@require_GET
@admin_required
def widget_preview(request: AgentRequest) -> HttpResponse:
    """A sample page of "your site" with the widget on it, open: what visitors will see."""
    return render(request, "web/admin/widget_preview.html", {"script": reverse("widget:script")})
