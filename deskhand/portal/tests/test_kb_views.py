"""The public knowledge base: pages, search, feedback, "this answered my question" and the
suggestions under a request's title. Drafts and internal articles are a 404 everywhere."""

from __future__ import annotations

from typing import Any

from django.test import Client

from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.kb.inputs import ArticleInput
from deskhand.kb.models import Deflection, Feedback
from deskhand.kb.services import create_article
from deskhand.kb.tests.factories import make_article, make_category


def test_home_lists_categories_and_popular_articles(client: Client, db: Any) -> None:
    accounts = make_category("Accounts", description="Sign-in and passwords")
    make_article("Reset your password", category=accounts.pk)
    make_article("Hidden draft", status="draft", category=accounts.pk)
    make_category("Empty")
    page = client.get("/kb/").content.decode()
    assert "Accounts" in page and "Sign-in and passwords" in page and "Reset your password" in page
    assert "Empty" not in page and "Hidden draft" not in page


def test_search_page_shows_marked_snippets(client: Client, db: Any) -> None:
    make_article("Reset your password", body="Choose **Forgot password** on the sign-in page.")
    make_article("Admin password vault", body="internal", visibility="internal")
    page = client.get("/kb/", {"q": "password"}).content.decode()
    assert "Reset your password" in page and "<mark>" in page and "Admin password vault" not in page
    assert "No article matches" in client.get("/kb/", {"q": "zzzqqq"}).content.decode()


def test_article_page_with_updated_on_related_and_translations(client: Client, db: Any) -> None:
    vpn = make_article("VPN setup", body="Install the client.")
    article = make_article("Work from home", body="Use the **VPN**.\n\n<script>alert(1)</script>", related=[vpn.pk],
                           category=make_category("Remote").pk)
    create_article(ArticleInput(title="Von zu Hause arbeiten", language="de", status="published",
                                translation_of=article.pk), actor=SYSTEM)
    response = client.get(f"/kb/{article.slug}")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>VPN</strong>" in page and "<script>alert(1)" not in page and "Updated on" in page
    assert "VPN setup" in page and "Deutsch" in page and "Remote" in page
    category_page = client.get("/kb/remote/").content.decode()
    assert "Work from home" in category_page


def test_drafts_internal_and_unknown_are_404(client: Client, db: Any) -> None:
    draft = make_article("Draft", status="draft")
    internal = make_article("Internal", visibility="internal")
    for slug in (draft.slug, internal.slug, "nothing-here"):
        assert client.get(f"/kb/{slug}").status_code == 404
        assert client.post(f"/kb/{slug}/feedback", {"helpful": "yes"}).status_code == 404
        assert client.post(f"/kb/{slug}/answered", {"source": "portal"}).status_code == 404
    assert client.get("/kb/nothing/").status_code == 404


def test_feedback_is_recorded_once_and_bad_input_is_a_422(client: Client, db: Any) -> None:
    article = make_article()
    response = client.post(f"/kb/{article.slug}/feedback", {"helpful": "no", "comment": "Needs screenshots"})
    assert response.status_code == 302 and response["Location"].endswith("?feedback=thanks#feedback")
    assert "Thank you for your feedback" in client.get(response["Location"]).content.decode()
    client.post(f"/kb/{article.slug}/feedback", {"helpful": "yes"})
    assert [(f.helpful, f.comment) for f in Feedback.objects.all()] == [(True, "Needs screenshots")]
    assert client.post(f"/kb/{article.slug}/feedback", {"helpful": "maybe"}).status_code == 422
    long = client.post(f"/kb/{article.slug}/feedback", {"helpful": "yes", "comment": "x" * 3000})
    assert long.status_code == 422 and "at most 2000" in long.content.decode()


def test_answered_counts_a_deflection_for_its_source(client: Client, db: Any) -> None:
    article = make_article()
    page = client.get(f"/kb/{article.slug}?from=portal").content.decode()
    assert "This answered my question" in page
    assert "This answered my question" not in client.get(f"/kb/{article.slug}").content.decode()
    response = client.post(f"/kb/{article.slug}/answered", {"source": "portal"})
    assert response.status_code == 200 and "Glad we could help" in response.content.decode()
    client.post(f"/kb/{article.slug}/answered", {"source": "portal"})
    assert list(Deflection.objects.values_list("source", flat=True)) == ["portal"]


def test_suggestions_show_public_articles_in_the_readers_language_first(client: Client, db: Any) -> None:
    english = make_article("Printer is offline", body="Restart the printer.")
    create_article(ArticleInput(title="Drucker ist offline", body="Drucker neu starten.", language="de",
                                status="published", translation_of=english.pk), actor=SYSTEM)
    make_article("Printer admin notes", body="internal", visibility="internal")
    fragment = client.get("/kb/suggest", {"title": "offline", "source": "form"},
                          headers={"HX-Request": "true", "Accept-Language": "de"}).content.decode()
    assert "Drucker ist offline" in fragment and "Printer is offline" not in fragment
    assert "?from=form" in fragment
    assert "Printer admin notes" not in client.get("/kb/suggest", {"title": "printer admin"}).content.decode()
    assert client.get("/kb/suggest", {"title": "pr"}).content.decode().strip() == ""


def test_the_new_request_page_and_web_forms_ask_for_suggestions(client: Client, db: Any) -> None:
    from deskhand.webforms.inputs import FormInput
    from deskhand.webforms.services import create_form

    create_form(FormInput(slug="help", title="Help"), actor=SYSTEM)
    page = client.get("/forms/help").content.decode()
    assert 'hx-get="/kb/suggest?source=form"' in page and "htmx" in page


def test_a_disabled_knowledge_base_is_not_there(client: Client, db: Any) -> None:
    article = make_article()
    update_settings({"kb_enabled": False}, actor=SYSTEM)
    assert client.get("/kb/").status_code == 404
    assert client.get(f"/kb/{article.slug}").status_code == 404
    assert client.get("/kb/suggest", {"title": "password"}).status_code == 404


def test_the_portal_links_the_help_center_while_it_is_on(make_customer: Any, portal_client: Any) -> None:
    browser = portal_client(make_customer("zoe@acme.example"))
    assert 'href="/kb/">Help center</a>' in browser.get("/portal/").content.decode()
    update_settings({"kb_enabled": False}, actor=SYSTEM)
    assert "Help center" not in browser.get("/portal/").content.decode()


def test_a_visitor_without_an_account_is_offered_to_send_a_request(client: Client, db: Any) -> None:
    page = client.get("/kb/").content.decode()
    assert 'href="/portal/requests/new">Send a request</a>' in page


def test_the_help_center_speaks_the_readers_language(client: Client, db: Any) -> None:
    article = make_article("Reset your password")
    assert "Wie können wir helfen?" in client.get("/kb/", headers={"Accept-Language": "de"}).content.decode()
    page = client.get(f"/kb/{article.slug}", headers={"Accept-Language": "hr"}).content.decode()
    assert "Je li vam ovaj članak pomogao?" in page and "Ažurirano" in page
    wrong = client.post(f"/kb/{article.slug}/feedback", {"helpful": "maybe"}, headers={"Accept-Language": "fr"})
    assert "Indiquez si l’article vous a aidé : oui ou non." in wrong.content.decode()


def test_a_category_of_only_internal_or_draft_articles_is_404(client: Client, db: Any) -> None:
    # The home page leaves such a category out; its own address showed its name and description.
    hidden = make_category("Escalation runbooks", description="On-call phone numbers and the escalation tree")
    make_article("Page the on-call", category=hidden.pk, visibility="internal")
    make_article("New runbook", category=hidden.pk, status="draft")
    empty = make_category("Empty")
    for category in (hidden, empty):
        answer = client.get(f"/kb/{category.slug}/")
        assert answer.status_code == 404 and "Escalation" not in answer.content.decode()
    make_article("Call us", category=hidden.pk)
    assert client.get(f"/kb/{hidden.slug}/").status_code == 200
