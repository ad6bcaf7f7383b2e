"""Reads of the knowledge base. `search_articles` is the one search every interface calls (public
pages, suggestions, the widget, the API, the agents' app): FTS5 on SQLite, PostgreSQL full-text
search on PostgreSQL, ranked, with highlighted snippets, the reader's language first, and a title
that is one typo away still found (FTS5 trigrams / pg_trgm)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from deskhand.core.errors import NotFound
from deskhand.core.text import search_term
from deskhand.kb.models import Article, Category, Deflection, Feedback, Source, Status, Visibility

Audience = Literal["public", "agent"]
MAX_LIMIT = 50
MAX_WORDS = 8
_WORD = re.compile(r"\w+")
_START, _STOP = "\x01", "\x02"
CANDIDATES = 300  # matches ranked before the visibility filter and the language order (SQLite)
PG_CANDIDATES = 1500  # matches ranked at most (PostgreSQL)
FUZZY_RATIO = 0.7  # how close a typed word must be to a title's word to count as a typo of it


@dataclass(frozen=True)
class Hit:
    """One search result: what a result list shows, the snippet escaped with `<mark>`s."""

    id: int
    title: str
    slug: str
    language: str
    visibility: str
    category: str
    category_slug: str
    snippet_html: SafeString

    @property
    def public_url(self) -> str:
        return reverse("kb-article", args=[self.slug])


def _visibilities(audience: Audience) -> tuple[str, ...]:
    return (Visibility.PUBLIC,) if audience == "public" else (Visibility.PUBLIC, Visibility.INTERNAL)


def visible_articles(audience: Audience) -> QuerySet[Article]:
    """Published articles `audience` may read (the public: public ones only)."""
    return Article.objects.filter(status=Status.PUBLISHED, visibility__in=_visibilities(audience))


def _marked(text: str) -> SafeString:
    """`text` escaped, with the engine's highlight markers as <mark> (only balanced pairs)."""
    out: list[str] = []
    open_mark = False
    for part in re.split(f"([{_START}{_STOP}])", text):
        if part == _START and not open_mark:
            out.append("<mark>")
            open_mark = True
        elif part == _STOP and open_mark:
            out.append("</mark>")
            open_mark = False
        elif part not in (_START, _STOP):
            out.append(str(escape(part)))
    if open_mark:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped


def _plain_snippet(text: str, length: int = 180) -> SafeString:
    text = " ".join(text.split())
    return _marked(text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + " …")


def _words(query: str) -> list[str]:
    return [word[:40] for word in _WORD.findall(search_term(query).lower())][:MAX_WORDS]


def search_articles(query: str, *, audience: Audience, language: str = "", limit: int = 10) -> list[Hit]:
    """Published articles matching `query` that `audience` may read, best first, those in
    `language` before the others and one per group of translations. Every word must match (a
    word's start is enough: "pass" finds "password"); when none match so, articles matching some
    of the words; when none do, titles within a typo of the words."""
    words = _words(query)
    limit = max(1, min(limit, MAX_LIMIT))
    if not words:
        return []
    visibilities = _visibilities(audience)
    engine = _sqlite if connection.vendor == "sqlite" else _postgresql if connection.vendor == "postgresql" else None
    if engine is None:  # another database: substring matches on the title, unranked
        articles = visible_articles(audience).filter(
            *[Q(title__icontains=word) | Q(body_text__icontains=word) for word in words])
        return _hits(_one_per_group(articles.values_list("id", "group", "language")[:limit * 2], language, limit), {})
    for combine in ("AND", "OR"):
        ranked = engine.ranked(words, combine, visibilities, language, limit * 2)
        if ranked:
            chosen = _one_per_group(ranked, language, limit)
            return _hits(chosen, engine.snippets(words, combine, chosen))
    chosen = _one_per_group(_fuzzy(words, visibilities, language, limit), language, limit)
    return _hits(chosen, {})


def _one_per_group(rows: Iterable[tuple[int, int | None, str]], language: str, limit: int) -> list[int]:
    """The ids of `rows` (id, group, language; best first), the reader's language winning within
    a group of translations, at most `limit`."""
    best: dict[Any, tuple[int, int, str]] = {}
    for position, (pk, group, article_language) in enumerate(rows):
        key = group if group is not None else f"id{pk}"
        if key not in best or (article_language == language and best[key][2] != language):
            best[key] = (position if key not in best else best[key][0], pk, article_language)
    return [pk for _position, pk, _language in sorted(best.values())][:limit]


def _hits(ids: Sequence[int], snippets: dict[int, str]) -> list[Hit]:
    if not ids:
        return []
    rows = {article.pk: article for article in Article.objects.filter(pk__in=ids).select_related("category").only(
        "id", "title", "slug", "language", "visibility", "body_text", "category__name", "category__slug")}
    hits = []
    for pk in ids:
        article = rows.get(pk)
        if article is None:
            continue
        snippet = snippets.get(pk)
        hits.append(Hit(id=article.pk, title=article.title, slug=article.slug, language=article.language,
                        visibility=article.visibility, category=article.category.name if article.category else "",
                        category_slug=article.category.slug if article.category else "",
                        snippet_html=_marked(snippet) if snippet else _plain_snippet(article.body_text)))
    return hits


def _in(values: Sequence[str]) -> str:
    return ", ".join(["%s"] * len(values))


class _sqlite:  # noqa: N801 - a namespace of the engine's two steps
    @staticmethod
    def _match(words: list[str], combine: str) -> str:
        # Each word a quoted prefix: FTS5 syntax in the words (AND, NEAR, ") is text.
        return f" {combine} ".join('"' + word.replace('"', '""') + '"*' for word in words)

    @staticmethod
    def ranked(words: list[str], combine: str, visibilities: Sequence[str], language: str,
               limit: int) -> list[tuple[int, int | None, str]]:
        # bm25 weights: title 10, tags 5, body 1. The best CANDIDATES matches are ranked inside FTS5
        # first (a word in every article would otherwise join and sort all 10 000 of them), then
        # filtered and put in the reader's language first; when the filter leaves too few, all
        # matches. The snippets are made for the chosen rows only.
        match = _sqlite._match(words, combine)
        for candidates in (CANDIDATES, None):
            inner = "ORDER BY rank LIMIT %s" if candidates else ""
            sql = ("SELECT a.id, a.\"group\", a.language FROM (SELECT rowid, rank FROM kb_article_fts "
                   f"WHERE kb_article_fts MATCH %s AND rank MATCH 'bm25(10.0, 5.0, 1.0)' {inner}) f "
                   "JOIN kb_article a ON a.id = f.rowid "
                   f"WHERE a.status = %s AND a.visibility IN ({_in(visibilities)}) "
                   "ORDER BY a.language = %s DESC, f.rank, a.id LIMIT %s")
            params: list[str | int] = [match, *([candidates] if candidates else []), Status.PUBLISHED, *visibilities,
                                       language, limit]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                rows = [(row[0], row[1], row[2]) for row in cursor.fetchall()]
            if len(rows) >= limit or candidates is None or not _sqlite._cut(match, candidates):
                return rows
        return rows

    @staticmethod
    def _cut(match: str, candidates: int) -> bool:
        """Whether there are more matches than the candidates ranked."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM (SELECT rowid FROM kb_article_fts WHERE kb_article_fts MATCH %s "
                           "LIMIT %s)", [match, candidates + 1])
            row = cursor.fetchone()
            return bool(row and row[0] > candidates)

    @staticmethod
    def snippets(words: list[str], combine: str, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        sql = (f"SELECT rowid, snippet(kb_article_fts, 2, char(1), char(2), ' … ', 24) FROM kb_article_fts "
               f"WHERE kb_article_fts MATCH %s AND rowid IN ({_in([str(pk) for pk in ids])})")
        with connection.cursor() as cursor:
            cursor.execute(sql, [_sqlite._match(words, combine), *ids])
            return {row[0]: row[1] for row in cursor.fetchall() if row[1] and _START in row[1]}

    @staticmethod
    def fuzzy_candidates(words: list[str], visibilities: Sequence[str], limit: int) -> list[tuple[Any, ...]]:
        grams = sorted({word[index:index + 3] for word in words if len(word) >= 3 for index in range(len(word) - 2)})
        if not grams:
            return []
        match = " OR ".join('"' + gram.replace('"', '""') + '"' for gram in grams[:40])
        sql = ("SELECT a.id, a.\"group\", a.language, a.title, a.tags FROM kb_article_trigram t "
               "JOIN kb_article a ON a.id = t.rowid "
               f"WHERE kb_article_trigram MATCH %s AND a.status = %s AND a.visibility IN ({_in(visibilities)}) "
               "ORDER BY bm25(kb_article_trigram) LIMIT %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [match, Status.PUBLISHED, *visibilities, limit])
            return list(cursor.fetchall())


class _postgresql:  # noqa: N801
    @staticmethod
    def _tsquery(words: list[str], combine: str) -> str:
        return f" {'&' if combine == 'AND' else '|'} ".join(f"{word}:*" for word in words)

    @staticmethod
    def ranked(words: list[str], combine: str, visibilities: Sequence[str], language: str,
               limit: int) -> list[tuple[int, int | None, str]]:
        # Matching costs about 4 µs an article; a query of only words that nearly every article
        # holds would match (and rank) all of them. At most PG_CANDIDATES matches are ranked:
        # another word narrows the matches (docs/decisions.md, "Knowledge base").
        sql = ("SELECT c.id, c.\"group\", c.language FROM (SELECT a.id, a.\"group\", a.language, a.search "
               "FROM kb_article a WHERE a.search @@ to_tsquery('simple', %s) AND a.status = %s "
               f"AND a.visibility IN ({_in(visibilities)}) LIMIT %s) c, to_tsquery('simple', %s) q "
               "ORDER BY c.language = %s DESC, ts_rank(c.search, q) DESC, c.id LIMIT %s")
        query = _postgresql._tsquery(words, combine)
        with connection.cursor() as cursor:
            cursor.execute(sql, [query, Status.PUBLISHED, *visibilities, PG_CANDIDATES, query, language, limit])
            return [(row[0], row[1], row[2]) for row in cursor.fetchall()]

    @staticmethod
    def snippets(words: list[str], combine: str, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        options = f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=2, " \
                  "FragmentDelimiter=\" … \""
        sql = ("SELECT a.id, ts_headline('simple', left(a.body_text, 20000), q, %s) "
               f"FROM kb_article a, to_tsquery('simple', %s) q WHERE a.id IN ({_in([str(pk) for pk in ids])})")
        with connection.cursor() as cursor:
            cursor.execute(sql, [options, _postgresql._tsquery(words, combine), *ids])
            return {row[0]: row[1] for row in cursor.fetchall() if row[1] and _START in row[1]}

    @staticmethod
    def fuzzy_candidates(words: list[str], visibilities: Sequence[str], limit: int) -> list[tuple[Any, ...]]:
        phrase = " ".join(words)
        sql = ("SELECT a.id, a.\"group\", a.language, a.title, a.tags FROM kb_article a "
               f"WHERE %s <%% lower(a.title) AND a.status = %s AND a.visibility IN ({_in(visibilities)}) "
               "ORDER BY word_similarity(%s, lower(a.title)) DESC, a.id LIMIT %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [phrase, Status.PUBLISHED, *visibilities, phrase, limit])
            return list(cursor.fetchall())


def _close(word: str, candidates: Iterable[str]) -> bool:
    return any(difflib.SequenceMatcher(None, word, candidate).ratio() >= FUZZY_RATIO for candidate in candidates)


def _fuzzy(words: list[str], visibilities: Sequence[str], language: str,
           limit: int) -> list[tuple[int, int | None, str]]:
    """Articles whose title or tags hold, for every typed word of 3 letters or more, a word
    within a typo of it; the reader's language first."""
    engine = _sqlite if connection.vendor == "sqlite" else _postgresql
    typed = [word for word in words if len(word) >= 3]
    if not typed:
        return []
    kept = []
    for pk, group, article_language, title, tags in engine.fuzzy_candidates(typed, visibilities, 60):
        title_words = _WORD.findall(f"{title} {tags}".lower())
        if all(_close(word, title_words) for word in typed):
            kept.append((pk, group, article_language))
    kept.sort(key=lambda row: row[2] != language)  # stable: the engine's order within each
    return kept[:limit * 2]


def top_articles(*, audience: Audience, language: str = "", limit: int = 5) -> list[Hit]:
    """What a search box offers before anything is typed: the articles readers found helpful
    most often, then the most recently updated; the reader's language first."""
    limit = max(1, min(limit, MAX_LIMIT))
    rows = (visible_articles(audience)
            .annotate(helpful=Count("feedback", filter=Q(feedback__helpful=True)))
            .order_by("-helpful", "-updated_at", "id").values_list("id", "group", "language")[:200])
    ordered = sorted(rows, key=lambda row: row[2] != language) if language else list(rows)
    return _hits(_one_per_group(ordered, language, limit), {})


# Pages ---------------------------------------------------------------------------------------


def get_public_article(slug: str) -> Article:
    """A published public article by its address; drafts and internal ones are not found."""
    article = visible_articles("public").select_related("category").filter(slug=slug[:120]).first()
    if article is None:
        raise NotFound("article_not_found", _("There is no such article."))
    return article


def get_public_article_by_id(pk: int) -> Article:
    article = visible_articles("public").select_related("category").filter(pk=pk).first()
    if article is None:
        raise NotFound("article_not_found", _("There is no such article."))
    return article


def get_article_for_agent(pk: int) -> Article:
    """Any article, draft or internal: agents write and read them all."""
    article = Article.objects.select_related("category", "author").filter(pk=pk).first()
    if article is None:
        raise NotFound("article_not_found", _("There is no such article."))
    return article


def get_public_category(slug: str) -> Category:
    """A category with at least one published public article (as on the home page); one of only
    internal or draft articles is not found, its name and description included."""
    category = Category.objects.filter(slug=slug[:80]).first()
    if category is None or not visible_articles("public").filter(category=category).exists():
        raise NotFound("category_not_found", _("There is no such category."))
    return category


def public_articles_in(category: Category | None, *, language: str) -> list[Article]:
    """The public articles of `category` (None: those without one), one per group of
    translations (the reader's language when there is one), by title."""
    articles = list(visible_articles("public").filter(category=category).order_by("title", "id")
                    .only("id", "title", "slug", "language", "group", "updated_at", "category_id")[:500])
    wanted = set(_one_per_group([(a.pk, a.group, a.language) for a in articles], language, 500))
    return [article for article in articles if article.pk in wanted]


def public_categories() -> list[tuple[Category, int]]:
    """Categories with their number of public articles, those without any left out."""
    counts = dict(visible_articles("public").exclude(category=None).values("category")
                  .annotate(n=Count("id")).values_list("category", "n"))
    return [(category, counts[category.pk]) for category in Category.objects.all() if counts.get(category.pk)]


def translations(article: Article, *, audience: Audience) -> list[Article]:
    """The other languages `article` exists in, that `audience` may read."""
    if article.group is None:
        return []
    return list(visible_articles(audience).filter(group=article.group).exclude(pk=article.pk).order_by("language"))


def related_articles(article: Article, *, audience: Audience) -> list[Article]:
    return list(visible_articles(audience).filter(pk__in=article.related.values("pk")).order_by("title"))


def article_list(*, query: str = "", status: str = "", visibility: str = "", category: int | None = None,
                 language: str = "") -> QuerySet[Article]:
    """Every article for the agents' list, newest change first, filtered."""
    articles = Article.objects.select_related("category").order_by("-updated_at", "-id")
    term = search_term(query)
    if term:
        articles = articles.filter(Q(title__icontains=term) | Q(tags__icontains=term) | Q(slug__icontains=term))
    if status in Status.values:
        articles = articles.filter(status=status)
    if visibility in Visibility.values:
        articles = articles.filter(visibility=visibility)
    if category is not None:
        articles = articles.filter(category_id=category)
    if language:
        articles = articles.filter(language=language)
    return articles


# Report --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleFigures:
    article: Article
    helpful: int
    not_helpful: int
    comments: int
    deflections: dict[str, int]

    @property
    def answers(self) -> int:
        return self.helpful + self.not_helpful

    @property
    def helpful_percent(self) -> int | None:
        return round(100 * self.helpful / self.answers) if self.answers else None

    @property
    def deflection_total(self) -> int:
        return sum(self.deflections.values())


def kb_report(*, limit: int = 200) -> tuple[list[ArticleFigures], dict[str, int]]:
    """Per article: helpful and not, comments, deflections per source; and the deflections per
    source over all articles. Articles nobody answered or was deflected by are left out."""
    feedback: dict[int, dict[str, Any]] = {row["article"]: dict(row) for row in Feedback.objects.values("article").annotate(
        yes=Count("id", filter=Q(helpful=True)), no=Count("id", filter=Q(helpful=False)),
        comments=Count("id", filter=~Q(comment="")), last=Max("created_at"))}
    deflections: dict[int, dict[str, int]] = {}
    totals = {source: 0 for source in Source.values}
    for article_id, source, count in Deflection.objects.values_list("article", "source").annotate(n=Count("id")):
        deflections.setdefault(article_id, {})[source] = count
        totals[source] = totals.get(source, 0) + count
    ids = set(feedback) | set(deflections)
    articles = Article.objects.filter(pk__in=ids).select_related("category")
    empty: dict[str, Any] = {}
    figures = [ArticleFigures(article=article, helpful=feedback.get(article.pk, empty).get("yes", 0),
                              not_helpful=feedback.get(article.pk, empty).get("no", 0),
                              comments=feedback.get(article.pk, empty).get("comments", 0),
                              deflections=deflections.get(article.pk, {})) for article in articles]
    figures.sort(key=lambda figure: (-(figure.answers + figure.deflection_total), figure.article.title))
    return figures[:limit], totals


def recent_comments(*, limit: int = 50) -> QuerySet[Feedback]:
    return Feedback.objects.exclude(comment="").select_related("article").order_by("-created_at")[:limit]
