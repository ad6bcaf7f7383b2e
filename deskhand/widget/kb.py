"""The widget's knowledge-base endpoints: JSON for a page of another origin, without cookies or
CSRF tokens (reads, and counters that count once per visitor and day). Public, published
articles only; anything else is a 404, bad input a 422."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from deskhand.config.queries import get_setting
from deskhand.core.errors import DomainError, NotFound
from deskhand.core.i18n import browser_language, supported_language
from deskhand.core.text import search_term
from deskhand.kb import queries
from deskhand.kb.inputs import DeflectionInput, FeedbackInput
from deskhand.kb.models import Article
from deskhand.kb.services import client_key, give_feedback, record_deflection

RESULTS = 8
MAX_BODY = 8 * 1024  # a feedback's JSON: a yes/no and a 2000-character comment


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _error(message: str, status: int, field: str | None = None) -> JsonResponse:
    return _json({"detail": message, "field": field}, status=status)


def _language(request: HttpRequest) -> str:
    return (supported_language(request.GET.get("lang", "")[:20]) or browser_language(request)
            or str(get_setting("kb_language")))


def _url(slug: str) -> str:
    return f"{settings.PUBLIC_ORIGIN}{reverse('kb-article', args=[slug])}"


def _article(article_id: int) -> Article | JsonResponse:
    if not get_setting("kb_enabled"):
        return _error(_("There is no knowledge base here."), 404)
    try:
        return queries.get_public_article_by_id(article_id)
    except NotFound:
        return _error(_("There is no such article."), 404)


def _visitor(request: HttpRequest) -> str:
    return client_key(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_USER_AGENT", ""), "widget")


def _body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    if len(request.body) > MAX_BODY:
        return _error(_("The request body is too large."), 413)
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _error(_("The body is not valid JSON."), 422)
    if not isinstance(data, dict):
        return _error(_("The body is a JSON object."), 422)
    return data


@require_GET
def search(request: HttpRequest) -> JsonResponse:
    """`?q=&lang=`: matching articles, the visitor's language first; an empty `q` gives the most
    helpful and recent few."""
    if not get_setting("kb_enabled"):
        return _error(_("There is no knowledge base here."), 404)
    language = _language(request)
    query = search_term(request.GET.get("q"))
    hits = (queries.search_articles(query, audience="public", language=language, limit=RESULTS) if query
            else queries.top_articles(audience="public", language=language, limit=5))
    return _json({"results": [{"id": hit.id, "title": hit.title, "snippet_html": str(hit.snippet_html),
                               "url": _url(hit.slug), "category": hit.category, "language": hit.language}
                              for hit in hits]})


@require_GET
def article(request: HttpRequest, article_id: int) -> JsonResponse:
    found = _article(article_id)
    if isinstance(found, JsonResponse):
        return found
    return _json({"id": found.pk, "title": found.title, "body_html": found.body_html, "url": _url(found.slug),
                  "language": found.language, "updated_at": found.updated_at.isoformat()})


@csrf_exempt  # no cookie is read: the visitor is their address and browser, counted once a day
@require_POST
def feedback(request: HttpRequest, article_id: int) -> JsonResponse:
    """`{"helpful": true, "comment": ""}`."""
    found = _article(article_id)
    if isinstance(found, JsonResponse):
        return found
    data = _body(request)
    if isinstance(data, JsonResponse):
        return data
    with translation.override(_language(request)):
        helpful, comment = data.get("helpful"), data.get("comment", "")
        if not isinstance(helpful, bool):
            return _error(_("Say whether the article helped: yes or no."), 422, "helpful")
        try:
            give_feedback(found, FeedbackInput(helpful=helpful, comment=comment if comment is not None else "",
                                               client=_visitor(request)))
        except DomainError as exc:
            return _error(exc.message, exc.status if exc.status != 400 else 422, exc.field)
    return _json({"ok": True})


@csrf_exempt
@require_POST
def deflected(request: HttpRequest, article_id: int) -> JsonResponse:
    """`{"source": "widget"}`: the article answered the visitor's question."""
    found = _article(article_id)
    if isinstance(found, JsonResponse):
        return found
    data = _body(request)
    if isinstance(data, JsonResponse):
        return data
    source = data.get("source", "widget")
    if not isinstance(source, str):
        return _error(_("The source is text."), 422, "source")
    try:
        counted = record_deflection(found, DeflectionInput(source=source, client=_visitor(request)))
    except DomainError as exc:
        return _error(exc.message, exc.status if exc.status != 400 else 422, exc.field)
    return _json({"ok": True, "counted": counted})
