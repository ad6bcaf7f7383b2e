"""The agents' knowledge base: every article (drafts and internal ones too) listed, searched,
read, written with a Markdown preview, published or unpublished and deleted; categories; the
reply box's "Insert article" lookup; and the knowledge-base report."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskhand.core.errors import DomainError, NotFound
from deskhand.core.i18n import languages
from deskhand.core.numbers import id_or_none
from deskhand.core.text import search_term
from deskhand.kb import markdown, queries
from deskhand.kb.inputs import ArticleChanges, ArticleInput, CategoryChanges, CategoryInput
from deskhand.kb.models import Article, Category, Source, Status, Visibility
from deskhand.kb.services import (
    MAX_BODY,
    create_article,
    create_category,
    delete_article,
    delete_category,
    publish_article,
    update_article,
    update_category,
)
from deskhand.web.access import actor, agent_required
from deskhand.web.http import AgentRequest

PAGE = 50
LOOKUP = 8


class ArticleForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    slug = forms.CharField(label=gettext_lazy("Address"), max_length=120, required=False,
                           help_text=gettext_lazy("/kb/<address>; made from the title when empty."))
    category = forms.TypedChoiceField(label=gettext_lazy("Category"), required=False, coerce=int, empty_value=None)
    language = forms.ChoiceField(label=gettext_lazy("Language"))
    visibility = forms.ChoiceField(label=gettext_lazy("Visibility"), choices=Visibility.choices)
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=Status.choices)
    tags = forms.CharField(label=gettext_lazy("Tags"), max_length=500, required=False,
                           help_text=gettext_lazy("Words separated by spaces."))
    related = forms.CharField(label=gettext_lazy("Related articles"), max_length=200, required=False,
                              help_text=gettext_lazy("Article numbers separated by spaces."))
    translation_of = forms.IntegerField(label=gettext_lazy("Translation of article"), required=False, min_value=1,
                                        max_value=2**62)
    body = forms.CharField(label=gettext_lazy("Text (Markdown)"), max_length=MAX_BODY, required=False,
                           widget=forms.Textarea(attrs={"rows": 18, "class": "kb-editor"}))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        language = self.fields["language"]
        assert isinstance(category, forms.ChoiceField) and isinstance(language, forms.ChoiceField)
        category.choices = [("", gettext("No category")), *Category.objects.values_list("pk", "name")]
        language.choices = [(code, name) for code, name in settings.LANGUAGES]
        if editing:
            del self.fields["translation_of"]

    def clean_related(self) -> list[int]:
        values = self.cleaned_data["related"].replace(",", " ").replace("#", " ").split()
        if not all(value.isascii() and value.isdigit() and len(value) < 18 for value in values):
            raise forms.ValidationError(gettext("Article numbers separated by spaces."))
        return [int(value) for value in values]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"title": data["title"], "slug": data["slug"], "category": data["category"],
                "language": data["language"], "visibility": data["visibility"], "status": data["status"],
                "tags": data["tags"].split(), "related": data["related"], "body": data["body"]}


def _article(article_id: int) -> Article:
    try:
        return queries.get_article_for_agent(article_id)
    except NotFound:
        raise Http404(gettext("There is no such article.")) from None


@require_GET
@agent_required
def kb_index(request: AgentRequest) -> HttpResponse:
    query = search_term(request.GET.get("q"))
    status = request.GET.get("status", "")
    visibility = request.GET.get("visibility", "")
    category = id_or_none(request.GET.get("category", ""))
    articles = queries.article_list(query=query, status=status, visibility=visibility, category=category)
    page = Paginator(articles, PAGE).get_page(request.GET.get("page"))
    return render(request, "web/kb/index.html", {
        "page": page, "q": query, "status": status, "visibility": visibility, "category": category,
        "categories": Category.objects.all(), "statuses": Status.choices, "visibilities": Visibility.choices,
        "public_url": f"{settings.PUBLIC_ORIGIN}{reverse('kb-home')}",
    })


@require_GET
@agent_required
def article_detail(request: AgentRequest, article_id: int) -> HttpResponse:
    article = _article(article_id)
    return render(request, "web/kb/article.html", {
        "article": article, "translations": queries.translations(article, audience="agent"),
        "drafts": Article.objects.filter(group=article.group).exclude(pk=article.pk).exclude(
            status=Status.PUBLISHED) if article.group else [],
        "related": article.related.all().order_by("title"),
        "public_url": f"{settings.PUBLIC_ORIGIN}{reverse('kb-article', args=[article.slug])}"
        if article.is_public else "",
    })


def _editor(request: AgentRequest, form: ArticleForm, article: Article | None, status: int = 200) -> HttpResponse:
    return render(request, "web/kb/edit.html", {"form": form, "article": article,
                                                "preview": markdown.to_html(form["body"].value() or "")},
                  status=status)


@require_http_methods(["GET", "POST"])
@agent_required
def new_article(request: AgentRequest) -> HttpResponse:
    initial = {"language": request.GET.get("language", "en") if request.GET.get("language") in languages() else "en",
               "visibility": Visibility.PUBLIC, "status": Status.DRAFT,
               "translation_of": id_or_none(request.GET.get("translation_of", ""))}
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            article = create_article(ArticleInput(**form.values(), translation_of=form.cleaned_data["translation_of"]),
                                     actor=actor(request))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, gettext("Article saved."))
            return redirect("web:kb-article", article_id=article.pk)
    return _editor(request, form, None, 422 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
@agent_required
def edit_article(request: AgentRequest, article_id: int) -> HttpResponse:
    article = _article(article_id)
    initial = {"title": article.title, "slug": article.slug, "category": article.category_id,
               "language": article.language, "visibility": article.visibility, "status": article.status,
               "tags": article.tags, "body": article.body,
               "related": " ".join(str(pk) for pk in article.related.values_list("pk", flat=True))}
    form = ArticleForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            update_article(article, changes=ArticleChanges(**form.values()), actor=actor(request))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, gettext("Article saved."))
            return redirect("web:kb-article", article_id=article.pk)
    return _editor(request, form, article, 422 if request.method == "POST" else 200)


@require_POST
@agent_required
def preview(request: AgentRequest) -> HttpResponse:
    """The editor's Markdown as readers will see it (htmx)."""
    html = markdown.to_html(request.POST.get("body", "")[:MAX_BODY])
    return render(request, "web/kb/edit.html#preview", {"preview": html})


@require_POST
@agent_required
def publish(request: AgentRequest, article_id: int) -> HttpResponse:
    article = _article(article_id)
    published = request.POST.get("published") == "1"
    publish_article(article, published=published, actor=actor(request))
    messages.success(request, gettext("Article published.") if published else gettext("Article unpublished."))
    return redirect("web:kb-article", article_id=article.pk)


@require_POST
@agent_required
def remove_article(request: AgentRequest, article_id: int) -> HttpResponse:
    article = _article(article_id)
    delete_article(article, actor=actor(request))
    messages.success(request, gettext("“%(title)s” deleted.") % {"title": article.title})
    return redirect("web:kb")


@require_POST
@agent_required
def add_category(request: AgentRequest) -> HttpResponse:
    try:
        create_category(CategoryInput(name=request.POST.get("name", "")[:1000], slug=request.POST.get("slug", "")[:200],
                                      description=request.POST.get("description", "")[:5000]), actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Category added."))
    return redirect(f"{reverse('web:kb')}#categories")


@require_POST
@agent_required
def change_category(request: AgentRequest, category_id: int) -> HttpResponse:
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise Http404(gettext("There is no such category."))
    try:
        if request.POST.get("action") == "delete":
            delete_category(category, actor=actor(request))
            messages.success(request, gettext("Category deleted; its articles stay, without a category."))
        else:
            position = request.POST.get("position", "0")
            update_category(category, changes=CategoryChanges(
                name=request.POST.get("name", "")[:1000], slug=request.POST.get("slug", "")[:200],
                description=request.POST.get("description", "")[:5000],
                position=int(position) if position.isascii() and position.isdigit() and len(position) < 6 else -1), actor=actor(request))
            messages.success(request, gettext("Category saved."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('web:kb')}#categories")


@require_GET
@agent_required
def lookup(request: AgentRequest) -> HttpResponse:
    """The reply box's "Insert article": articles as the agent types. A reply links public
    articles (customers can open those); a note links any article at its agents' address."""
    note = request.GET.get("for") == "note"
    query = search_term(request.GET.get("q"))
    hits = queries.search_articles(query, audience="agent" if note else "public", limit=LOOKUP) if query else []
    links = []
    for hit in hits:
        if hit.visibility == Visibility.PUBLIC:
            url = f"{settings.PUBLIC_ORIGIN}{hit.public_url}"
        else:
            url = f"{settings.PUBLIC_ORIGIN}{reverse('web:kb-article', args=[hit.id])}"
        title = hit.title.replace("[", "(").replace("]", ")")
        links.append({"hit": hit, "markdown": f"[{title}]({url})"})
    return render(request, "web/kb/lookup.html", {"links": links, "q": query})


@require_GET
@agent_required
def report(request: AgentRequest) -> HttpResponse:
    figures, totals = queries.kb_report()
    return render(request, "web/reports/kb.html", {
        "figures": figures, "totals": [(label, totals.get(value, 0)) for value, label in Source.choices],
        "total": sum(totals.values()), "comments": queries.recent_comments(limit=30),
        "sources": Source.choices,
    })
