"""The agents' knowledge base: list, read (internal ones too), write with a preview, publish,
delete, categories, the reply box's lookup and the report."""

from __future__ import annotations

from typing import Any

from django.test import Client

from deskhand.kb.inputs import DeflectionInput, FeedbackInput
from deskhand.kb.models import Article, Category
from deskhand.kb.services import give_feedback, record_deflection
from deskhand.kb.tests.factories import make_article, make_category

FORM = {"title": "Set up two-factor sign-in", "slug": "", "category": "", "language": "en", "visibility": "public",
        "status": "draft", "tags": "security 2fa", "related": "", "body": "1. Open **Profile**\n2. Scan the code"}


def test_write_preview_publish_and_delete(agent_client: Client) -> None:
    assert agent_client.get("/knowledge/new").status_code == 200
    preview = agent_client.post("/knowledge/preview", {"body": "**bold** <script>x</script>"}, headers={"HX-Request": "true"})
    assert "<strong>bold</strong>" in preview.content.decode() and "<script>" not in preview.content.decode()
    response = agent_client.post("/knowledge/new", FORM)
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/knowledge/{article.pk}"
    assert article.status == "draft" and article.tags == "security 2fa"
    page = agent_client.get(f"/knowledge/{article.pk}").content.decode()
    assert "<strong>Profile</strong>" in page and "Publish" in page
    agent_client.post(f"/knowledge/{article.pk}/publish", {"published": "1"})
    article.refresh_from_db()
    assert article.status == "published"
    edited = agent_client.post(f"/knowledge/{article.pk}/edit", {**FORM, "title": "Two-factor sign-in",
                                                                 "status": "published", "visibility": "internal"})
    assert edited.status_code == 302
    article.refresh_from_db()
    assert article.title == "Two-factor sign-in" and article.visibility == "internal"
    assert "Two-factor sign-in" in agent_client.get("/knowledge", {"q": "two-factor"}).content.decode()
    agent_client.post(f"/knowledge/{article.pk}/delete")
    assert not Article.objects.exists()


def test_bad_input_is_shown_on_the_form(agent_client: Client) -> None:
    make_article("Taken", slug="taken")
    response = agent_client.post("/knowledge/new", {**FORM, "slug": "taken"})
    assert response.status_code == 422 and "/kb/taken" in response.content.decode()
    response = agent_client.post("/knowledge/new", {**FORM, "related": "abc"})
    assert response.status_code == 422
    assert agent_client.get("/knowledge/999999").status_code == 404


def test_categories(agent_client: Client) -> None:
    agent_client.post("/knowledge/categories", {"name": "Billing"})
    category = Category.objects.get()
    agent_client.post(f"/knowledge/categories/{category.pk}", {"name": "Invoices", "slug": "invoices", "position": "3"})
    category.refresh_from_db()
    assert (category.name, category.slug, category.position) == ("Invoices", "invoices", 3)
    agent_client.post(f"/knowledge/categories/{category.pk}", {"action": "delete"})
    assert not Category.objects.exists()


def test_lookup_links_public_articles_in_replies_and_any_in_notes(agent_client: Client) -> None:
    make_article("Printer [offline]", body="restart")
    internal = make_article("Printer admin", body="internal", visibility="internal")
    reply = agent_client.get("/knowledge/lookup", {"q": "printer", "for": "reply"}).content.decode()
    assert 'data-kb-link="[Printer (offline)](http' in reply and "/kb/printer-offline)" in reply
    assert "Printer admin" not in reply
    note = agent_client.get("/knowledge/lookup", {"q": "printer", "for": "note"}).content.decode()
    assert f"/knowledge/{internal.pk})" in note


def test_internal_articles_are_for_agents_only(client: Client, db: Any) -> None:
    internal = make_article("Admin notes", visibility="internal")
    assert client.get(f"/knowledge/{internal.pk}").status_code == 302  # to sign-in
    assert client.get(f"/kb/{internal.slug}").status_code == 404


def test_report_shows_helpful_share_comments_and_deflections(agent_client: Client) -> None:
    article = make_article("Reset your password", category=make_category().pk)
    give_feedback(article, FeedbackInput(helpful=True, client="a"))
    give_feedback(article, FeedbackInput(helpful=False, comment="Add a screenshot", client="b"))
    record_deflection(article, DeflectionInput(source="widget", client="a"))
    page = agent_client.get("/reports/knowledge").content.decode()
    assert "Reset your password" in page and "50" in page and "Add a screenshot" in page
    assert "1 question answered" in page
    assert 'href="/reports/knowledge"' in agent_client.get("/reports").content.decode()


def test_non_ascii_digits_are_bad_input_not_a_server_error(agent_client: Client) -> None:
    # "²".isdigit() is true and int("²") raises: both fields answered 500.
    response = agent_client.post("/knowledge/new", {**FORM, "related": "²"})
    assert response.status_code == 422 and not Article.objects.exists()
    category = make_category("Billing")
    response = agent_client.post(f"/knowledge/categories/{category.pk}", {"name": "Invoices", "position": "²"})
    assert response.status_code == 302
    category.refresh_from_db()
    assert (category.name, category.position) == ("Billing", 0)
