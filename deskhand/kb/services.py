"""Writes of the knowledge base: agents write categories and articles (Markdown, rendered and
sanitized as it is saved); readers leave feedback and say an article answered their question
(deflection). Readers' counters are idempotent per visitor and day and capped per visitor, so a
script cannot stuff them."""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from deskhand.audit.services import diff, record
from deskhand.core.actors import Actor, ActorKind
from deskhand.core.errors import Conflict, DomainError, Forbidden, Invalid
from deskhand.core.i18n import languages
from deskhand.core.inputs import UNSET
from deskhand.core.text import clean_text
from deskhand.kb import markdown
from deskhand.kb.inputs import (
    ArticleChanges,
    ArticleInput,
    CategoryChanges,
    CategoryInput,
    DeflectionInput,
    FeedbackInput,
)
from deskhand.kb.models import Article, Category, Deflection, Feedback, Source, Status, Visibility

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,118}[a-z0-9])?$")
TAG = re.compile(r"^[\w][\w.+#-]{0,39}$")
# Addresses under /kb/ that are pages of their own, never an article's.
RESERVED_SLUGS = {"suggest", "search", "static"}
MAX_BODY = 200_000
MAX_TAGS = 20
MAX_RELATED = 10
MAX_COMMENT = 2000
FEEDBACK_PER_HOUR = 20  # answers one visitor may give in an hour, over all articles
DEFLECTIONS_PER_HOUR = 30


class TooMany(DomainError):
    status = 429


def _require_agent(actor: Actor) -> None:
    if actor.kind not in (ActorKind.AGENT, ActorKind.TOKEN, ActorKind.SYSTEM):
        raise Forbidden("agent_required", _("Only agents can change the knowledge base."))


ADDRESS_KEY = 32  # the leading characters of a client key that stand for the network address


def _keyed(raw: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:kb:{raw}".encode()).hexdigest()


def client_key(address: str, *parts: str) -> str:
    """A visitor as the counters know them, never the address itself: a keyed hash of the
    address, then one of the address with the rest of what the request tells (its browser). Each
    visitor counts once a day; the hourly limits count per address (the first ADDRESS_KEY
    characters), since a caller chooses its own User-Agent."""
    raw = "\x1f".join(part[:500] for part in (address, *parts))
    return _keyed(address[:500])[:ADDRESS_KEY] + _keyed(raw)[:64 - ADDRESS_KEY]


def _slug(value: str, *, field: str) -> str:
    slug = value.strip().lower()
    if not SLUG.match(slug) or slug in RESERVED_SLUGS:
        raise Invalid("invalid_slug", _("The address is 1 to 120 lower-case letters, digits and dashes."), field=field)
    return slug


def _free_slug(model: type[Article] | type[Category], base: str, *, max_length: int, exclude: int | None) -> str:
    """`base` or `base-2`, `base-3`… : the first address no other record has."""
    base = (slugify(base)[:max_length - 4].strip("-") or ("article" if model is Article else "category"))
    if base in RESERVED_SLUGS:
        base = f"{base}-article"
    others = model.objects.filter(slug__startswith=base)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    taken = set(others.values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


# Categories ----------------------------------------------------------------------------------


def _category_state(category: Category) -> dict[str, Any]:
    return {"name": category.name, "slug": category.slug, "description": category.description,
            "position": category.position}


def _apply_category(category: Category, values: CategoryInput) -> None:
    category.name = clean_text(values.name, field="name", max_length=120, required=True)
    category.slug = _slug(values.slug, field="slug")[:80] if values.slug.strip() else \
        _free_slug(Category, category.name, max_length=80, exclude=category.pk)
    category.description = clean_text(values.description, field="description", max_length=2000, multiline=True)
    if not isinstance(values.position, int) or not 0 <= values.position <= 10_000:
        raise Invalid("invalid_position", _("The position is a number from 0 to 10000."), field="position")
    category.position = values.position


def _save_category(category: Category) -> None:
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:
        raise Conflict("category_exists", _("Another category has the address /kb/%(slug)s/.") % {"slug": category.slug},
                       field="slug") from None


@transaction.atomic
def create_category(values: CategoryInput, *, actor: Actor) -> Category:
    _require_agent(actor)
    category = Category()
    _apply_category(category, values)
    _save_category(category)
    record(actor=actor, action="kb.category.created", object_type="kb_category", object_id=category.pk,
           object_label=category.name, changes=_category_state(category))
    return category


@transaction.atomic
def update_category(category: Category, *, changes: CategoryChanges, actor: Actor) -> Category:
    _require_agent(actor)
    before = _category_state(category)
    current = CategoryInput(name=category.name, slug=category.slug, description=category.description,
                            position=category.position)
    given = {key: value for key, value in vars(changes).items() if value is not UNSET}
    _apply_category(category, replace(current, **given))
    _save_category(category)
    changed = diff(before, _category_state(category))
    if changed:
        record(actor=actor, action="kb.category.updated", object_type="kb_category", object_id=category.pk,
               object_label=category.name, changes=changed)
    return category


@transaction.atomic
def delete_category(category: Category, *, actor: Actor) -> None:
    """The category goes; its articles stay, without a category."""
    _require_agent(actor)
    record(actor=actor, action="kb.category.deleted", object_type="kb_category", object_id=category.pk,
           object_label=category.name, changes=_category_state(category))
    category.delete()


# Articles ------------------------------------------------------------------------------------


def _article_state(article: Article) -> dict[str, Any]:
    return {"title": article.title, "slug": article.slug, "category": article.category_id,
            "visibility": article.visibility, "status": article.status, "language": article.language,
            "tags": article.tags, "body": article.body}


def _tags(values: Sequence[str]) -> str:
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    if len(values) > MAX_TAGS:
        raise Invalid("too_many_tags", _("An article has at most %(count)s tags.") % {"count": MAX_TAGS}, field="tags")
    tags: list[str] = []
    for value in values:
        tag = str(value).strip().lower().lstrip("#")
        if not tag:
            continue
        if not TAG.match(tag):
            raise Invalid("invalid_tag", _("A tag is one word of at most 40 letters or digits."), field="tags")
        if tag not in tags:
            tags.append(tag)
    return " ".join(tags)


def _apply_article(article: Article, values: ArticleInput) -> None:
    article.title = clean_text(values.title, field="title", max_length=200, required=True)
    article.body = clean_text(values.body, field="body", max_length=MAX_BODY, multiline=True)
    article.body_html = markdown.to_html(article.body)
    article.body_text = markdown.to_text(article.body_html)
    article.slug = _slug(values.slug, field="slug") if values.slug.strip() else \
        _free_slug(Article, article.title, max_length=120, exclude=article.pk)
    if values.category is not None and not Category.objects.filter(pk=values.category).exists():
        raise Invalid("unknown_category", _("There is no such category."), field="category")
    article.category_id = values.category
    if values.visibility not in Visibility.values:
        raise Invalid("invalid_visibility", _("An article is public or internal."), field="visibility")
    if values.status not in Status.values:
        raise Invalid("invalid_status", _("An article is a draft or published."), field="status")
    if values.language not in languages():
        raise Invalid("invalid_language", _("Choose one of the languages: %(codes)s.") % {
            "codes": ", ".join(languages())}, field="language")
    article.visibility, article.language = values.visibility, values.language
    if values.status == Status.PUBLISHED and article.status != Status.PUBLISHED:
        article.published_at = timezone.now()
    article.status = values.status
    article.tags = _tags(values.tags)


def _set_related(article: Article, related: Sequence[int]) -> None:
    ids = list(dict.fromkeys(int(value) for value in related))
    if len(ids) > MAX_RELATED:
        raise Invalid("too_many_related", _("An article links at most %(count)s related articles.") % {
            "count": MAX_RELATED}, field="related")
    if article.pk in ids:
        raise Invalid("related_to_itself", _("An article is not related to itself."), field="related")
    found = set(Article.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [value for value in ids if value not in found]
    if missing:
        raise Invalid("unknown_article", _("There is no article %(id)s.") % {"id": missing[0]}, field="related")
    article.related.set(ids)


def _save_article(article: Article) -> None:
    try:
        with transaction.atomic():
            article.save()
    except IntegrityError as exc:
        if "language" in str(exc) or "one_per_language" in str(exc):
            raise Conflict("translation_exists", _("This article has a translation in that language already."),
                           field="language") from None
        raise Conflict("article_exists", _("Another article has the address /kb/%(slug)s.") % {"slug": article.slug},
                       field="slug") from None


@transaction.atomic
def create_article(values: ArticleInput, *, actor: Actor) -> Article:
    """A new article; `translation_of` puts it in that article's group of translations."""
    _require_agent(actor)
    article = Article(author_id=actor.agent_id)
    _apply_article(article, values)
    if values.translation_of is not None:
        original = Article.objects.select_for_update().filter(pk=values.translation_of).first()
        if original is None:
            raise Invalid("unknown_article", _("There is no article %(id)s.") % {"id": values.translation_of},
                          field="translation_of")
        if original.group is None:
            original.group = original.pk
            original.save(update_fields=["group"])
        article.group = original.group
    _save_article(article)
    if article.group is None:
        article.group = article.pk
        Article.objects.filter(pk=article.pk).update(group=article.pk)
    _set_related(article, values.related)
    record(actor=actor, action="kb.article.created", object_type="kb_article", object_id=article.pk,
           object_label=article.title, changes={**_article_state(article), "body": len(article.body)})
    return article


def _as_input(article: Article) -> ArticleInput:
    return ArticleInput(title=article.title, body=article.body, slug=article.slug, category=article.category_id,
                        visibility=article.visibility, status=article.status, language=article.language,
                        tags=article.tag_list)


@transaction.atomic
def update_article(article: Article, *, changes: ArticleChanges, actor: Actor) -> Article:
    _require_agent(actor)
    before = _article_state(article)
    given = {key: value for key, value in vars(changes).items() if value is not UNSET and key != "related"}
    _apply_article(article, replace(_as_input(article), **given))
    _save_article(article)
    if changes.related is not UNSET:
        _set_related(article, changes.related)
    changed = diff(before, _article_state(article))
    if "body" in changed:  # the audit says that it changed, not the whole text twice
        changed["body"] = {"old": len(before["body"]), "new": len(article.body)}
    if changed:
        record(actor=actor, action="kb.article.updated", object_type="kb_article", object_id=article.pk,
               object_label=article.title, changes=changed)
    return article


def publish_article(article: Article, *, published: bool, actor: Actor) -> Article:
    return update_article(article, changes=ArticleChanges(status=Status.PUBLISHED if published else Status.DRAFT),
                          actor=actor)


@transaction.atomic
def delete_article(article: Article, *, actor: Actor) -> None:
    """The article goes with its feedback and deflections; its translations stay."""
    _require_agent(actor)
    record(actor=actor, action="kb.article.deleted", object_type="kb_article", object_id=article.pk,
           object_label=article.title, changes={**_article_state(article), "body": len(article.body)})
    article.delete()


# Readers -------------------------------------------------------------------------------------


def _today() -> datetime.date:
    return timezone.localdate()


def _check_rate(model: type[Feedback] | type[Deflection], client: str, limit: int) -> None:
    since = timezone.now() - datetime.timedelta(hours=1)
    recent = model.objects.filter(client__startswith=client[:ADDRESS_KEY], created_at__gte=since)
    if recent.count() >= limit:
        raise TooMany("too_many", _("Too many answers from here. Try again later."), field="client")


@transaction.atomic
def give_feedback(article: Article, values: FeedbackInput) -> Feedback:
    """A reader's answer to "was this helpful?" on a public, published article. The same visitor
    answering again the same day replaces their answer; more than FEEDBACK_PER_HOUR answers an
    hour are refused."""
    if not article.is_public:
        raise Invalid("not_public", _("There is no such article."), field="article")
    if not isinstance(values.helpful, bool):
        raise Invalid("invalid_helpful", _("Say whether the article helped: yes or no."), field="helpful")
    comment = clean_text(values.comment, field="comment", max_length=MAX_COMMENT, multiline=True,
                         label=_("comment"))
    client = values.client[:64] or "anonymous"
    existing = Feedback.objects.select_for_update().filter(article=article, client=client, day=_today()).first()
    if existing is not None:
        existing.helpful = values.helpful
        existing.comment = comment or existing.comment
        existing.save(update_fields=["helpful", "comment"])
        return existing
    _check_rate(Feedback, client, FEEDBACK_PER_HOUR)
    try:
        with transaction.atomic():
            return Feedback.objects.create(article=article, helpful=values.helpful, comment=comment, client=client,
                                           day=_today())
    except IntegrityError:  # the same visitor's two clicks at once: the first counts
        return Feedback.objects.get(article=article, client=client, day=_today())


@transaction.atomic
def record_deflection(article: Article, values: DeflectionInput) -> bool:
    """"This answered my question" for a public article suggested at `source`: counted once per
    visitor, article, source and day. True when it was counted now."""
    if not article.is_public:
        raise Invalid("not_public", _("There is no such article."), field="article")
    if values.source not in Source.values:
        raise Invalid("invalid_source", _("The source is one of: %(values)s.") % {"values": ", ".join(Source.values)},
                      field="source")
    client = values.client[:64] or "anonymous"
    if Deflection.objects.filter(article=article, source=values.source, client=client, day=_today()).exists():
        return False
    _check_rate(Deflection, client, DEFLECTIONS_PER_HOUR)
    try:
        with transaction.atomic():
            Deflection.objects.create(article=article, source=values.source, client=client, day=_today())
    except IntegrityError:
        return False
    return True
