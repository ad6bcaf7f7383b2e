"""The widget's script and its configuration. The script (`/widget.js`) is what a company puts on
its own site; it asks `/widget/config` what to show (the help desk's name, colour and logo, the apps
switched on, every text in the visitor's language), then talks to the knowledge base's and the
chat's endpoints (deskhand/widget/kb.py, deskhand/widget/chat.py)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from deskhand.config.queries import get_settings
from deskhand.core.i18n import DEFAULT, browser_language, supported_language
from deskhand.webforms.models import WebForm
from deskhand.widget import chat_urls, kb_urls


@cache
def _script() -> bytes:
    found = finders.find("widget.js")
    return Path(str(found)).read_bytes()


@require_GET
@cache_control(max_age=300, public=True)
def script(request: HttpRequest) -> HttpResponse:
    """The widget's script, for a `<script src>` on any site (no framework, about 20 KB)."""
    response = HttpResponse(_script(), content_type="text/javascript; charset=utf-8")
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _texts() -> dict[str, str]:
    """Every text the widget shows, in the active language (the script holds none of its own)."""
    return {
        "help": gettext("Help"),
        "close": gettext("Close"),
        "answers": gettext("Answers"),
        "request": gettext("Send a request"),
        "chat": gettext("Chat"),
        "search_label": gettext("Search our help articles"),
        "search_placeholder": gettext("Type a question or a few words"),
        "popular": gettext("Popular articles"),
        "no_results": gettext("No article matches. Try other words, or send us a request."),
        "back": gettext("Back"),
        "open_article": gettext("Open the full article"),
        "helpful_question": gettext("Did this answer your question?"),
        "yes": gettext("Yes"),
        "no": gettext("No"),
        "thanks": gettext("Thank you for telling us."),
        "name": gettext("Your name"),
        "email": gettext("Your email address"),
        "message": gettext("Your message"),
        "start_chat": gettext("Start the chat"),
        "chat_intro": gettext("Ask us anything: an agent answers here."),
        "leave_message": gettext("We are not online now. Leave a message and we answer by email."),
        "send_message": gettext("Send the message"),
        "send": gettext("Send"),
        "waiting": gettext("Waiting for an agent…"),
        "joined": gettext("%(name)s is answering."),
        "ended": gettext("The chat has ended."),
        "filed": gettext("Thank you. Your message is request %(ticket)s; we answer by email."),
        "end_chat": gettext("End the chat"),
        "transcript": gettext("Email me the transcript"),
        "transcript_sent": gettext("The transcript is on its way to your mailbox."),
        "new_chat": gettext("Start a new chat"),
        "you": gettext("You"),
        "error": gettext("Something went wrong. Try again in a moment."),
        "offline": gettext("The connection was lost; trying again…"),
    }


@require_GET
def config(request: HttpRequest) -> JsonResponse:
    """What the widget shows, for `?lang=` (else the visitor's browser language)."""
    values = get_settings()
    language = supported_language(request.GET.get("lang", "")[:20]) or browser_language(request) or DEFAULT
    if not values["widget_enabled"]:
        return JsonResponse({"enabled": False})
    apps = values["widget_apps"]
    form_url = None
    if "request" in apps and values["widget_form"]:
        form = WebForm.objects.filter(slug=values["widget_form"], enabled=True, require_sign_in=False).first()
        if form is not None:
            form_url = reverse("web-form", args=[form.slug])
    with translation.override(language):
        texts = _texts()
        label = values["widget_label"] or texts["help"]
    return JsonResponse({
        "enabled": True,
        "language": language,
        "name": values["email_sender_name"],
        "color": values["brand_color"],
        # Paths: the script puts the address it was loaded from in front.
        "logo": reverse("portal:logo") if values["brand_logo_type"] else None,
        "label": label,
        # The knowledge base's and the chat's own switches, where those apps have them.
        "apps": {"kb": "kb" in apps and bool(kb_urls.urlpatterns) and bool(values.get("kb_enabled", True)),
                 "request": form_url,
                 "chat": "chat" in apps and bool(chat_urls.urlpatterns) and bool(values.get("chat_enabled", True))},
        "text": texts,
    }, json_dumps_params={"ensure_ascii": False})

