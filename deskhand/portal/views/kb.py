"""The public knowledge base, `/kb/`: categories, articles and search in the reader's language
(their own articles first), feedback on an article, and the suggestions the new-request page and
web forms show under the title as the customer types. Drafts and internal articles are a 404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_POST

from deskhand.config.queries import get_setting
from deskhand.core.errors import DomainError, Invalid, NotFound
from deskhand.core.i18n import supported_language
from deskhand.core.text import search_term
from deskhand.kb import queries
from deskhand.kb.inputs import DeflectionInput, FeedbackInput
from deskhand.kb.models import Source
from deskhand.kb.services import client_key, give_feedback, record_deflection
from deskhand.portal.sessions import current_account, with_portal_session

SUGGESTIONS = 5
MIN_SUGGEST = 3  # letters typed before suggestions appear
SOURCES = {Source.PORTAL, Source.FORM, Source.WIDGET}


def kb_enabled(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not get_setting("kb_enabled"):
            raise Http404(_("There is no knowledge base here."))
        return view(request, *args, **kwargs)

    return wrapped


def reader_language(request: HttpRequest) -> str:
    """The reader's language (their own, chosen, or their browser's), else the knowledge base's."""
    return supported_language(get_language()) or str(get_setting("kb_language"))


def visitor(request: HttpRequest) -> str:
    return client_key(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_USER_AGENT", ""))


def _source(value: str) -> str:
    return value if value in SOURCES else ""


def _context(request: HttpRequest, **values: Any) -> dict[str, Any]:
    return {"account": current_account(request), **values}


@require_GET
@with_portal_session
@kb_enabled
def kb_home(request: HttpRequest) -> HttpResponse:
    language = reader_language(request)
    query = search_term(request.GET.get("q"))
    if query:
        hits = queries.search_articles(query, audience="public", language=language, limit=20)
        return render(request, "portal/kb/search.html", _context(request, query=query, hits=hits))
    return render(request, "portal/kb/home.html", _context(
        request, categories=queries.public_categories(),
        popular=queries.top_articles(audience="public", language=language, limit=6),
        loose=queries.public_articles_in(None, language=language)))


@require_GET
@with_portal_session
@kb_enabled
def category_page(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        category = queries.get_public_category(slug)
    except NotFound:
        raise Http404(_("There is no such category.")) from None
    articles = queries.public_articles_in(category, language=reader_language(request))
    return render(request, "portal/kb/category.html", _context(request, category=category, articles=articles))


def _article_context(request: HttpRequest, slug: str, **values: Any) -> dict[str, Any]:
    try:
        article = queries.get_public_article(slug)
    except NotFound:
        raise Http404(_("There is no such article.")) from None
    return _context(request, article=article,
                    translations=queries.translations(article, audience="public"),
                    related=queries.related_articles(article, audience="public"),
                    source=_source(request.GET.get("from", "")), **values)


@require_GET
@xframe_options_exempt  # opened from a web form shown in an iframe
@with_portal_session
@kb_enabled
def article_page(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "portal/kb/article.html", _article_context(
        request, slug, thanks=request.GET.get("feedback") == "thanks"))


@require_POST
@with_portal_session
@kb_enabled
def feedback(request: HttpRequest, slug: str) -> HttpResponse:
    """"Was this helpful?": yes or no, and an optional comment."""
    context = _article_context(request, slug)
    answer = request.POST.get("helpful", "")
    try:
        if answer not in ("yes", "no"):
            raise Invalid("invalid_helpful", _("Say whether the article helped: yes or no."), field="helpful")
        give_feedback(context["article"], FeedbackInput(helpful=answer == "yes",
                                                        comment=request.POST.get("comment", "")[:10_000],
                                                        client=visitor(request)))
    except DomainError as exc:
        status = exc.status if exc.status != 400 else 422
        return render(request, "portal/kb/article.html", {**context, "feedback_error": exc.message,
                                                          "comment": request.POST.get("comment", "")[:2000]},
                      status=status)
    return redirect(f"{reverse('kb-article', args=[context['article'].slug])}?feedback=thanks#feedback")


@require_POST
@with_portal_session
@kb_enabled
def deflected(request: HttpRequest, slug: str) -> HttpResponse:
    """"This answered my question", after a suggestion opened the article."""
    context = _article_context(request, slug)
    source = _source(request.POST.get("source", ""))
    try:
        record_deflection(context["article"], DeflectionInput(source=source or Source.KB, client=visitor(request)))
    except DomainError as exc:
        status = exc.status if exc.status != 400 else 422
        return render(request, "portal/kb/article.html", {**context, "feedback_error": exc.message}, status=status)
    return render(request, "portal/kb/answered.html", context)


@require_GET
@kb_enabled
def suggest(request: HttpRequest) -> HttpResponse:
    """Articles for what the customer is typing as a request's title: a fragment under the title
    (htmx), empty until a few letters are typed."""
    query = search_term(request.GET.get("q") or request.GET.get("title"), max_length=300)
    hits = queries.search_articles(query, audience="public", language=reader_language(request),
                                   limit=SUGGESTIONS) if len(query) >= MIN_SUGGEST else []
    return render(request, "portal/kb/suggestions.html", {"hits": hits, "source": _source(request.GET.get("source", ""))})
