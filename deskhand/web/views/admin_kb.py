"""Administration → Customer apps → Knowledge base: whether the public help center at /kb/ is on
(with the suggestions under a request's title), and the language it shows to a reader whose own
language it cannot tell."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from deskhand.config.queries import get_settings
from deskhand.config.services import update_settings
from deskhand.core.errors import DomainError, Invalid
from deskhand.core.i18n import languages
from deskhand.kb.models import Article, Status, Visibility
from deskhand.web.access import actor, admin_required
from deskhand.web.http import AgentRequest


def kb_context() -> dict[str, Any]:
    """What the knowledge base's section of Administration → Customer apps shows."""
    values = get_settings()
    return {"kb": {
        "enabled": values["kb_enabled"], "language": values["kb_language"],
        "languages": list(settings.LANGUAGES),
        "url": f"{settings.PUBLIC_ORIGIN}{reverse('kb-home')}", "agents_url": reverse("web:kb"),
        "published": Article.objects.filter(visibility=Visibility.PUBLIC, status=Status.PUBLISHED).count(),
    }}


def _language(text: str) -> str:
    code = text.strip()[:20]
    if code not in languages():
        raise Invalid("invalid_setting", gettext("Choose the knowledge base's language from the list."),
                      field="kb_language")
    return code


@require_POST
@admin_required
def save_kb(request: AgentRequest) -> HttpResponse:
    data = request.POST
    try:
        update_settings({"kb_enabled": data.get("enabled") == "on", "kb_language": _language(data.get("language", ""))},
                        actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Knowledge base saved. Customers see the change on their next page."))
    return redirect(f"{reverse('web:admin-apps')}#kb-title")
