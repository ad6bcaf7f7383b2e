"""Writing articles and categories: Markdown rendered and sanitized, addresses, translations,
tags, related articles, and who may write."""

from __future__ import annotations

import re
from typing import Any

import pytest

from deskhand.audit.models import AuditEvent
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.kb.inputs import ArticleChanges, ArticleInput, CategoryChanges, CategoryInput
from deskhand.kb.models import Article, Status
from deskhand.kb.services import (
    create_article,
    create_category,
    delete_article,
    delete_category,
    publish_article,
    update_article,
    update_category,
)
from deskhand.kb.tests.factories import make_article, make_category

HOSTILE = """# Hi
<script>alert(1)</script>
<img src=x onerror="alert(2)">
[click](javascript:alert(3))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==)
<a href="https://evil.example" onclick="steal()">raw link</a>
<iframe src="https://evil.example"></iframe>
"""


def test_hostile_markdown_keeps_no_script_handler_or_javascript_link(agent_actor: Actor) -> None:
    article = create_article(ArticleInput(title="Hostile", body=HOSTILE), actor=agent_actor)
    html = article.body_html.lower()
    assert "<h1>hi</h1>" in html
    for bad in ("<script", "<iframe", "<img", 'href="javascript', 'href="data', '<a href="https://evil'):
        assert bad not in html, bad
    assert not re.search(r"<[^>]*\son\w+=", html)  # no event handler on any element
    assert "&lt;script&gt;" in html  # raw HTML is shown as text


def test_markdown_renders_links_lists_tables_and_code(agent_actor: Actor) -> None:
    body = "See [the guide](https://example.com/guide).\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n`code`"
    article = create_article(ArticleInput(title="Guide", body=body), actor=agent_actor)
    assert 'href="https://example.com/guide"' in article.body_html and 'rel="noopener noreferrer nofollow"' in article.body_html
    assert "<li>one</li>" in article.body_html and "<table>" in article.body_html and "<code>code</code>" in article.body_html
    assert "the guide" in article.body_text and "<" not in article.body_text


def test_the_address_is_made_from_the_title_and_kept_unique(agent_actor: Actor) -> None:
    first = create_article(ArticleInput(title="Reset your password!"), actor=agent_actor)
    second = create_article(ArticleInput(title="Reset your password?"), actor=agent_actor)
    assert (first.slug, second.slug) == ("reset-your-password", "reset-your-password-2")
    reserved = create_article(ArticleInput(title="Suggest"), actor=agent_actor)
    assert reserved.slug == "suggest-article"


def test_a_chosen_address_that_is_taken_is_a_conflict(agent_actor: Actor) -> None:
    create_article(ArticleInput(title="One", slug="vpn"), actor=agent_actor)
    with pytest.raises(Conflict) as taken:
        create_article(ArticleInput(title="Two", slug="vpn"), actor=agent_actor)
    assert taken.value.field == "slug"
    with pytest.raises(Invalid) as bad:
        create_article(ArticleInput(title="Three", slug="Not OK/../"), actor=agent_actor)
    assert bad.value.field == "slug"
    assert Article.objects.count() == 1


@pytest.mark.parametrize(("values", "field"), [
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"body": "x" * 200_001}, "body"),
    ({"visibility": "secret"}, "visibility"),
    ({"status": "gone"}, "status"),
    ({"language": "xx"}, "language"),
    ({"category": 999_999}, "category"),
    ({"tags": ["a b c"]}, "tags"),
    ({"tags": [f"t{n}" for n in range(21)]}, "tags"),
    ({"related": [999_999]}, "related"),
    ({"title": "bad\x00"}, "title"),
])
def test_bad_input_names_its_field_and_writes_nothing(agent_actor: Actor, values: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as refused:
        create_article(ArticleInput(**{"title": "Fine", **values}), actor=agent_actor)
    assert refused.value.field == field
    assert not Article.objects.exists()


def test_customers_cannot_write(db: Any) -> None:
    with pytest.raises(Forbidden):
        create_article(ArticleInput(title="Mine"), actor=Actor.customer("zoe@example.com"))
    with pytest.raises(Forbidden):
        create_category(CategoryInput(name="Mine"), actor=Actor.customer("zoe@example.com"))


def test_translations_share_a_group_one_per_language(agent_actor: Actor) -> None:
    english = make_article("Reset your password")
    german = create_article(ArticleInput(title="Passwort zurücksetzen", language="de", translation_of=english.pk),
                            actor=agent_actor)
    english.refresh_from_db()
    assert english.group == german.group == english.pk
    with pytest.raises(Conflict) as twice:
        create_article(ArticleInput(title="Noch einmal", language="de", translation_of=english.pk), actor=agent_actor)
    assert twice.value.field == "language"


def test_tags_related_and_publishing(agent_actor: Actor) -> None:
    other = make_article("VPN setup")
    article = create_article(ArticleInput(title="Wi-Fi", tags=["#Network", "wifi", "network"], related=[other.pk]),
                             actor=agent_actor)
    assert article.tags == "network wifi" and list(article.related.all()) == [other]
    assert article.status == Status.DRAFT and article.published_at is None
    publish_article(article, published=True, actor=agent_actor)
    assert article.status == Status.PUBLISHED and article.published_at is not None
    with pytest.raises(Invalid):
        update_article(article, changes=ArticleChanges(related=[article.pk]), actor=agent_actor)
    update_article(article, changes=ArticleChanges(body="New **text**", related=[]), actor=agent_actor)
    article.refresh_from_db()
    assert "<strong>text</strong>" in article.body_html and not article.related.exists()
    assert AuditEvent.objects.filter(action="kb.article.updated", object_id=article.pk).count() == 2


def test_categories_and_deleting(agent_actor: Actor) -> None:
    category = make_category("Billing & invoices")
    assert category.slug == "billing-invoices"
    with pytest.raises(Conflict):
        create_category(CategoryInput(name="Other", slug="billing-invoices"), actor=agent_actor)
    update_category(category, changes=CategoryChanges(description="Money", position=2), actor=agent_actor)
    article = make_article("Invoice copy", category=category.pk)
    delete_category(category, actor=agent_actor)
    article.refresh_from_db()
    assert article.category is None
    delete_article(article, actor=agent_actor)
    assert not Article.objects.exists()
    assert AuditEvent.objects.filter(action="kb.article.deleted").exists()
