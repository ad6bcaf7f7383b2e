"""The widget's knowledge-base JSON: public, published articles only, no cookies or CSRF, 422 for
bad input, counters once per visitor."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.kb.inputs import ArticleInput
from deskhand.kb.models import Deflection, Feedback
from deskhand.kb.services import create_article
from deskhand.kb.tests.factories import make_article, make_category

pytestmark = pytest.mark.django_db


def _post(client: Client, path: str, data: Any) -> Any:
    return client.post(path, json.dumps(data) if not isinstance(data, (bytes, str)) else data,
                       content_type="application/json")


def test_search_finds_public_articles_with_snippets_in_the_visitors_language(client: Client) -> None:
    english = make_article("Track your order", body="Open the order page to **track** it.",
                           category=make_category("Orders").pk)
    create_article(ArticleInput(title="Bestellung verfolgen", body="Bestellung track", language="de",
                                status="published", translation_of=english.pk), actor=SYSTEM)
    make_article("Track internal", body="track", visibility="internal")
    make_article("Track draft", body="track", status="draft")
    results = client.get("/widget/kb/search", {"q": "track", "lang": "de"}).json()["results"]
    assert [result["title"] for result in results] == ["Bestellung verfolgen"]
    english_results = client.get("/widget/kb/search", {"q": "track", "lang": "en"}).json()["results"]
    assert english_results[0]["title"] == "Track your order" and english_results[0]["category"] == "Orders"
    assert english_results[0]["url"].endswith("/kb/track-your-order") and "<mark>" in english_results[0]["snippet_html"]
    popular = client.get("/widget/kb/search", {"q": ""}).json()["results"]
    assert {result["title"] for result in popular} <= {"Track your order", "Bestellung verfolgen"}


def test_an_article_as_json_and_hidden_ones_are_404(client: Client) -> None:
    article = make_article("Returns", body="Send it back within 30 days.<script>x</script>")
    data = client.get(f"/widget/kb/articles/{article.pk}").json()
    assert data["title"] == "Returns" and "<p>" in data["body_html"] and "<script>" not in data["body_html"]
    assert data["updated_at"] and data["url"].endswith("/kb/returns")
    for hidden in (make_article("Draft", status="draft"), make_article("Internal", visibility="internal")):
        assert client.get(f"/widget/kb/articles/{hidden.pk}").status_code == 404
        assert _post(client, f"/widget/kb/articles/{hidden.pk}/feedback", {"helpful": True}).status_code == 404
        assert _post(client, f"/widget/kb/articles/{hidden.pk}/deflected", {"source": "widget"}).status_code == 404
    assert client.get("/widget/kb/articles/999999").status_code == 404


def test_feedback_and_deflection_without_cookies_or_csrf(client: Client) -> None:
    article = make_article()
    strict = Client(enforce_csrf_checks=True)
    assert _post(strict, f"/widget/kb/articles/{article.pk}/feedback", {"helpful": False, "comment": "Unclear"}).json() == {"ok": True}
    assert _post(strict, f"/widget/kb/articles/{article.pk}/deflected", {"source": "widget"}).json()["counted"] is True
    assert _post(strict, f"/widget/kb/articles/{article.pk}/deflected", {"source": "widget"}).json()["counted"] is False
    assert Feedback.objects.get().comment == "Unclear" and Deflection.objects.get().source == "widget"


@pytest.mark.parametrize(("path", "body", "field"), [
    ("feedback", {"helpful": "yes"}, "helpful"),
    ("feedback", {"helpful": True, "comment": "x" * 2001}, "comment"),
    ("feedback", {"helpful": True, "comment": 5}, "comment"),
    ("feedback", "not json", None),
    ("feedback", "[1]", None),
    ("deflected", {"source": "email"}, "source"),
    ("deflected", {"source": 1}, "source"),
])
def test_bad_input_is_a_422(client: Client, path: str, body: Any, field: str | None) -> None:
    article = make_article()
    response = _post(client, f"/widget/kb/articles/{article.pk}/{path}", body)
    assert response.status_code == 422 and response.json()["field"] == field
    assert not Feedback.objects.exists() and not Deflection.objects.exists()


def test_nothing_when_the_knowledge_base_is_off(client: Client) -> None:
    article = make_article()
    update_settings({"kb_enabled": False}, actor=SYSTEM)
    assert client.get("/widget/kb/search", {"q": "password"}).status_code == 404
    assert client.get(f"/widget/kb/articles/{article.pk}").status_code == 404


def test_a_new_browser_name_does_not_lift_the_hourly_limit_of_an_address(client: Client) -> None:
    # The visitor key hashed the address with the User-Agent, which the caller chooses: a script
    # sending a new one with each vote was a new visitor each time, without any limit.
    from deskhand.kb.services import DEFLECTIONS_PER_HOUR, FEEDBACK_PER_HOUR

    article = make_article()
    for number in range(FEEDBACK_PER_HOUR):
        answer = client.post(f"/widget/kb/articles/{article.pk}/feedback", json.dumps({"helpful": True}),
                             content_type="application/json", HTTP_USER_AGENT=f"bot/{number}")
        assert answer.status_code == 200
    answer = client.post(f"/widget/kb/articles/{article.pk}/feedback", json.dumps({"helpful": True}),
                         content_type="application/json", HTTP_USER_AGENT="bot/last")
    assert answer.status_code == 429 and Feedback.objects.count() == FEEDBACK_PER_HOUR
    for number in range(DEFLECTIONS_PER_HOUR + 1):
        answer = _post(client, f"/widget/kb/articles/{article.pk}/deflected", {"source": "widget"})
        client.defaults["HTTP_USER_AGENT"] = f"bot/{number}"
    assert answer.status_code == 429 and Deflection.objects.count() == DEFLECTIONS_PER_HOUR
    other = Client(REMOTE_ADDR="10.9.9.9")  # another address has its own allowance
    assert other.post(f"/widget/kb/articles/{article.pk}/feedback", json.dumps({"helpful": False}),
                      content_type="application/json").status_code == 200
