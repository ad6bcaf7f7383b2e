"""The knowledge base: categories and articles (Markdown, rendered and sanitized when saved), the
feedback readers give an article, and the questions an article answered before they became tickets
(deflections)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)  # its address: /kb/<slug>/
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal (agents only)")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Article(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)  # its address: /kb/<slug>
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles")
    body = models.TextField(blank=True)  # Markdown as written
    body_html = models.TextField(blank=True)  # rendered and sanitized when saved
    body_text = models.TextField(blank=True)  # plain text: what search reads and snippets quote
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    language = models.CharField(max_length=8, default="en")
    # Translations of one article share a group: the id of the first of them.
    group = models.PositiveBigIntegerField(null=True, blank=True)
    tags = models.CharField(max_length=500, blank=True)  # space-separated, lower-case
    related = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            # One article per language in a translation group.
            models.UniqueConstraint(fields=["group", "language"], name="kb_article_one_per_language"),
        ]
        indexes = [
            # Category pages and the empty search list published public articles by category.
            models.Index(fields=["status", "visibility", "category"], name="kb_article_listing_idx"),
            # Translations of an article.
            models.Index(fields=["group"], name="kb_article_group_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status == Status.PUBLISHED and self.visibility == Visibility.PUBLIC

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split()


class Source(models.TextChoices):
    PORTAL = "portal", _("Portal")
    FORM = "form", _("Web form")
    WIDGET = "widget", _("Widget")
    KB = "kb", _("Knowledge base")


class Feedback(models.Model):
    """A reader's "was this helpful?": one per article, visitor and day (a second answer replaces
    the first)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    client = models.CharField(max_length=64)  # a hash of the visitor, never their address
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "client", "day"], name="kb_feedback_once_a_day"),
        ]
        indexes = [
            # The rate limit counts a visitor's recent answers.
            models.Index(fields=["client", "created_at"], name="kb_feedback_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{'helpful' if self.helpful else 'not helpful'}: article {self.article_id}"


class Deflection(models.Model):
    """"This answered my question" after a suggestion: counted once per article, source, visitor
    and day."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    source = models.CharField(max_length=10, choices=Source.choices)
    client = models.CharField(max_length=64)
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "source", "client", "day"], name="kb_deflection_once_a_day"),
        ]
        indexes = [models.Index(fields=["client", "created_at"], name="kb_deflection_client_idx")]

    def __str__(self) -> str:
        return f"deflection by article {self.article_id} ({self.source})"
