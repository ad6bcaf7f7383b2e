"""/api/v1/kb: articles and categories for agents' tokens; search without a token shows public
articles only."""

from __future__ import annotations

from typing import Any

from django.test import Client

from deskhand.conftest import ApiClient
from deskhand.kb.models import Article
from deskhand.kb.tests.factories import make_article


def test_create_read_update_delete_an_article(api: ApiClient) -> None:
    category = api.post("/kb/categories", {"name": "Shipping"})
    assert category.status_code == 201 and category.json()["slug"] == "shipping"
    created = api.post("/kb/articles", {"title": "Track a parcel", "body": "Use **the link**.\n\n[x](javascript:alert(1))",
                                        "category": category.json()["id"], "tags": ["parcel"], "status": "published"})
    assert created.status_code == 201, created.json()
    article = created.json()
    assert "<strong>the link</strong>" in article["body_html"] and "href=\"javascript" not in article["body_html"]
    assert article["url"].endswith("/kb/track-a-parcel") and article["tags"] == ["parcel"]
    changed = api.patch(f"/kb/articles/{article['id']}", {"visibility": "internal", "category": None})
    assert changed.status_code == 200 and changed.json()["visibility"] == "internal"
    assert changed.json()["category"] is None and changed.json()["url"] is None
    assert api.get(f"/kb/articles/{article['id']}").json()["title"] == "Track a parcel"
    assert api.get("/kb/articles", {"visibility": "internal"}).json()["count"] == 1
    assert api.get("/kb/categories").json()["count"] == 1
    assert api.delete(f"/kb/articles/{article['id']}").status_code == 204
    assert api.get(f"/kb/articles/{article['id']}").status_code == 404


def test_errors_name_the_field(api: ApiClient) -> None:
    api.post("/kb/articles", {"title": "One", "slug": "one"})
    duplicate = api.post("/kb/articles", {"title": "Two", "slug": "one"})
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "slug"
    for body, field in [({"title": ""}, "title"), ({"title": "x", "language": "xx"}, "language"),
                        ({"title": "x", "tags": ["a"] * 21}, "tags"), ({"title": "x", "related": [999]}, "related"),
                        ({"title": "x", "category": 999}, "category")]:
        response = api.post("/kb/articles", body)
        assert response.status_code == 422 and response.json()["field"] == field, (body, response.json())
    assert Article.objects.count() == 1
    assert api.post("/kb/categories", {"name": "A", "slug": "a"}).status_code == 201
    assert api.post("/kb/categories", {"name": "B", "slug": "a"}).status_code == 409


def test_search_without_a_token_shows_public_articles_only(api: ApiClient, db: Any) -> None:
    make_article("Password reset", body="public")
    make_article("Password vault", body="internal", visibility="internal")
    anonymous = Client().get("/api/v1/kb/search", {"q": "password"}).json()["results"]
    assert [hit["title"] for hit in anonymous] == ["Password reset"]
    wrong = Client().get("/api/v1/kb/search", {"q": "password"}, headers={"Authorization": "Bearer nope"})
    assert [hit["title"] for hit in wrong.json()["results"]] == ["Password reset"]
    agent = api.get("/kb/search", {"q": "password"}).json()["results"]
    assert {hit["title"] for hit in agent} == {"Password reset", "Password vault"}
    assert all("<mark>" in hit["snippet_html"] or hit["snippet_html"] for hit in agent)
    assert Client().get("/api/v1/kb/articles").status_code == 401
    assert Client().get("/api/v1/kb/search", {"q": "x" * 201}).status_code == 422
