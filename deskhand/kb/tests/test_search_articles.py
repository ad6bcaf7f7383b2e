"""The one search: ranked, highlighted, the reader's language first, typo-tolerant, and internal
or draft articles never shown to the public."""

from __future__ import annotations

from typing import Any

from deskhand.core.actors import SYSTEM
from deskhand.kb.inputs import ArticleInput
from deskhand.kb.queries import search_articles, top_articles
from deskhand.kb.services import create_article, delete_article
from deskhand.kb.tests.factories import make_article, make_category


def test_matches_are_ranked_title_first_with_marked_snippets(db: Any) -> None:
    make_article("Printer offline", body="If the printer shows offline, check the password of the Wi-Fi.")
    make_article("Change your password", body="Open settings. Your password needs 12 characters.",
                 category=make_category("Accounts").pk)
    hits = search_articles("password", audience="public")
    assert [hit.title for hit in hits] == ["Change your password", "Printer offline"]
    assert hits[0].category == "Accounts" and hits[0].public_url == "/kb/change-your-password"
    assert "<mark>password</mark>" in hits[0].snippet_html


def test_a_word_start_is_enough_and_every_word_must_match_first(db: Any) -> None:
    make_article("Set up the VPN client", body="Download the client.")
    make_article("Client portal", body="How to sign in.")
    assert [hit.title for hit in search_articles("vpn cli", audience="public")] == ["Set up the VPN client"]
    # No article has both words: those with either.
    assert {hit.title for hit in search_articles("vpn portal", audience="public")} == {"Set up the VPN client",
                                                                                       "Client portal"}


def test_a_typo_in_a_title_word_still_finds_it(db: Any) -> None:
    make_article("Reset your password", body="Steps.")
    make_article("Printer setup", body="Steps.")
    assert [hit.title for hit in search_articles("pasword", audience="public")] == ["Reset your password"]
    assert search_articles("zzzqqq", audience="public") == []


def test_internal_and_draft_articles_never_reach_the_public(db: Any) -> None:
    make_article("Secret admin password", body="internal only", visibility="internal")
    make_article("Password draft", body="not yet", status="draft")
    make_article("Password help", body="public")
    assert [hit.title for hit in search_articles("password", audience="public")] == ["Password help"]
    assert [hit.title for hit in search_articles("pasword", audience="public")] == ["Password help"]
    assert {hit.title for hit in search_articles("password", audience="agent")} == {"Secret admin password",
                                                                                     "Password help"}
    assert [hit.title for hit in top_articles(audience="public")] == ["Password help"]


def test_the_readers_language_first_and_one_translation_per_group(db: Any) -> None:
    english = make_article("Password reset", body="Reset the password here.")
    create_article(ArticleInput(title="Password zurücksetzen", body="Das Password hier zurücksetzen.", language="de",
                                status="published", translation_of=english.pk), actor=SYSTEM)
    make_article("Password rules", body="Twelve characters.", language="fr")
    german = search_articles("password", audience="public", language="de")
    assert [hit.language for hit in german] == ["de", "fr"]
    english_hits = search_articles("password", audience="public", language="en")
    assert english_hits[0].title == "Password reset" and len(english_hits) == 2


def test_query_syntax_and_markup_are_plain_text(db: Any) -> None:
    make_article("Quotes \"and\" <b>tags</b>", body="Body with <script>alert(1)</script> text.")
    for query in ['"', "AND OR NOT", "a* NEAR(b)", "body) OR (", "<script>", "'; DROP TABLE kb_article; --", "",
                  "x" * 5000]:
        search_articles(query, audience="public")  # never an error
    hit = search_articles("body", audience="public")[0]
    assert "<script>" not in hit.snippet_html and "alert(1)" in hit.snippet_html  # PostgreSQL drops the tag text
    assert "<mark>Body</mark>" in hit.snippet_html


def test_a_changed_or_deleted_article_is_searched_as_it_is(db: Any) -> None:
    from deskhand.kb.inputs import ArticleChanges
    from deskhand.kb.services import update_article

    article = make_article("Old title", body="Nothing here.")
    update_article(article, changes=ArticleChanges(title="Fresh title"), actor=SYSTEM)
    assert search_articles("old", audience="public") == []
    assert [hit.id for hit in search_articles("fresh", audience="public")] == [article.pk]
    delete_article(article, actor=SYSTEM)
    assert search_articles("fresh", audience="public") == []
