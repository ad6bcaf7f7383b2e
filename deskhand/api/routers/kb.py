"""The knowledge base: articles and categories for agents' tokens, and a search that answers
without a token too (public articles only; a valid token adds the internal ones)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema, Status
from pydantic import Field, StrictInt, StrictStr

from deskhand.api.auth import BearerToken, actor_of
from deskhand.api.pagination import ListParams, paginate
from deskhand.core.numbers import MAX_ID
from deskhand.core.text import search_term
from deskhand.kb import queries, services
from deskhand.kb.inputs import ArticleChanges, ArticleInput, CategoryInput
from deskhand.kb.models import Article, Category

router = Router(tags=["knowledge base"])

Language = Literal["en", "de", "hr", "fr", "es", "nb"]
ArticleId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


class CategoryIn(Schema):
    name: StrictStr = Field(max_length=120)
    slug: StrictStr = Field("", max_length=80, description="Its address, /kb/<slug>/; made from the name if empty.")
    description: StrictStr = Field("", max_length=2000)
    position: StrictInt = Field(0, ge=0, le=10_000)


class CategoryOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    position: int


class CategoryListOut(Schema):
    items: list[CategoryOut]
    count: int


class ArticleIn(Schema):
    title: StrictStr = Field(max_length=200)
    body: StrictStr = Field("", max_length=200_000, description="Markdown. Raw HTML is shown as text.")
    slug: StrictStr = Field("", max_length=120, description="Its address, /kb/<slug>; made from the title if empty.")
    category: int | None = Field(None, ge=1, le=MAX_ID)
    visibility: Literal["public", "internal"] = "public"
    status: Literal["draft", "published"] = "draft"
    language: Language = "en"
    translation_of: int | None = Field(None, ge=1, le=MAX_ID, description="The article this one translates.")
    tags: list[StrictStr] = Field([], max_length=20)
    related: list[ArticleId] = Field([], max_length=10, description="Ids of related articles.")


class ArticlePatch(Schema):
    title: StrictStr | None = Field(None, max_length=200)
    body: StrictStr | None = Field(None, max_length=200_000)
    slug: StrictStr | None = Field(None, max_length=120)
    category: int | None = Field(None, ge=1, le=MAX_ID, description="null: no category.")
    visibility: Literal["public", "internal"] | None = None
    status: Literal["draft", "published"] | None = None
    language: Language | None = None
    tags: list[StrictStr] | None = Field(None, max_length=20)
    related: list[ArticleId] | None = Field(None, max_length=10)

    def to_changes(self) -> ArticleChanges:
        values: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is not None or name == "category":
                values[name] = value
        return ArticleChanges(**values)


class ArticleOut(Schema):
    id: int
    title: str
    slug: str
    category: int | None
    body: str
    body_html: str
    visibility: str
    status: str
    language: str
    group: int | None = Field(description="Translations of one article share a group.")
    tags: list[str]
    related: list[int]
    author: int | None
    url: str | None = Field(description="The public address, for a published public article.")
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None

    @staticmethod
    def resolve_category(obj: Article) -> int | None:
        return obj.category_id

    @staticmethod
    def resolve_tags(obj: Article) -> list[str]:
        return obj.tag_list

    @staticmethod
    def resolve_related(obj: Article) -> list[int]:
        return sorted(obj.related.values_list("pk", flat=True))

    @staticmethod
    def resolve_author(obj: Article) -> int | None:
        return obj.author_id

    @staticmethod
    def resolve_url(obj: Article) -> str | None:
        return f"{settings.PUBLIC_ORIGIN}{reverse('kb-article', args=[obj.slug])}" if obj.is_public else None


class ArticleListOut(Schema):
    items: list[ArticleOut]
    count: int


class ArticleParams(ListParams):
    status: Literal["draft", "published"] | None = None
    visibility: Literal["public", "internal"] | None = None
    category: int | None = Field(None, ge=1, le=MAX_ID)
    language: Language | None = None


class SearchParams(Schema):
    q: str = Field("", max_length=200)
    language: Language | None = Field(None, description="Articles in this language first.")
    limit: int = Field(10, ge=1, le=50)


class HitOut(Schema):
    id: int
    title: str
    slug: str
    language: str
    visibility: str
    category: str
    snippet_html: str = Field(description="Escaped text with <mark> around the matches.")
    url: str | None


class SearchOut(Schema):
    results: list[HitOut]


def _anonymous(request: HttpRequest) -> bool:
    return True


@router.get("/kb/categories", response=CategoryListOut)
def list_categories(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    categories = Category.objects.order_by("position", "name", "id")
    term = search_term(params.search)
    if term:
        categories = categories.filter(name__icontains=term)
    return paginate(categories, params)


@router.post("/kb/categories", response={201: CategoryOut})
def create_category(request: HttpRequest, payload: CategoryIn) -> Status[Category]:
    values = CategoryInput(name=payload.name, slug=payload.slug, description=payload.description,
                           position=payload.position)
    return Status(201, services.create_category(values, actor=actor_of(request)))


@router.get("/kb/articles", response=ArticleListOut)
def list_articles(request: HttpRequest, params: Query[ArticleParams]) -> dict[str, Any]:
    """Every article, drafts and internal ones too, newest change first."""
    articles = queries.article_list(query=params.search, status=params.status or "",
                                    visibility=params.visibility or "", category=params.category,
                                    language=params.language or "").prefetch_related("related")
    return paginate(articles, params)


@router.post("/kb/articles", response={201: ArticleOut})
def create_article(request: HttpRequest, payload: ArticleIn) -> Status[Article]:
    values = ArticleInput(title=payload.title, body=payload.body, slug=payload.slug, category=payload.category,
                          visibility=payload.visibility, status=payload.status, language=payload.language,
                          translation_of=payload.translation_of, tags=payload.tags, related=payload.related)
    return Status(201, services.create_article(values, actor=actor_of(request)))


@router.get("/kb/articles/{id:article_id}", response=ArticleOut)
def get_article(request: HttpRequest, article_id: int) -> Article:
    return queries.get_article_for_agent(article_id)


@router.patch("/kb/articles/{id:article_id}", response=ArticleOut)
def update_article(request: HttpRequest, article_id: int, payload: ArticlePatch) -> Article:
    article = queries.get_article_for_agent(article_id)
    return services.update_article(article, changes=payload.to_changes(), actor=actor_of(request))


@router.delete("/kb/articles/{id:article_id}", response={204: None})
def delete_article(request: HttpRequest, article_id: int) -> Status[None]:
    services.delete_article(queries.get_article_for_agent(article_id), actor=actor_of(request))
    return Status(204, None)


@router.get("/kb/search", response=SearchOut, auth=[BearerToken(), _anonymous])
def search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    """Published articles matching `q`, best first. Without a token: public articles only; with a
    valid agent token, internal ones too."""
    agent = getattr(request, "agent", None)
    hits = queries.search_articles(params.q, audience="agent" if agent is not None else "public",
                                   language=params.language or "", limit=params.limit)
    return {"results": [{**{name: getattr(hit, name) for name in (
        "id", "title", "slug", "language", "visibility", "category")}, "snippet_html": str(hit.snippet_html),
        "url": f"{settings.PUBLIC_ORIGIN}{hit.public_url}" if hit.visibility == "public" else None} for hit in hits]}
