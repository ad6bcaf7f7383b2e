"""Administration → Customer apps → Knowledge base: the public help center on or off, and its
default language."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from deskhand.config.queries import get_settings
from deskhand.kb.tests.factories import make_article

pytestmark = pytest.mark.django_db

DEFAULTS = {"kb_enabled": True, "kb_language": "en"}


def _kb_settings() -> dict[str, object]:
    values = get_settings()
    return {name: values[name] for name in DEFAULTS}


def test_the_section_shows_the_settings_and_the_help_centers_address(admin_client: Client) -> None:
    make_article("Reset your password")
    make_article("Admin notes", visibility="internal")
    make_article("Not yet", status="draft")
    page = admin_client.get("/admin/apps").content.decode()
    assert 'id="kb-title"' in page and 'id="kb-enabled" name="enabled" checked' in page
    assert '<option value="en" selected>English</option>' in page and '<option value="nb">' in page
    assert f'href="{settings.PUBLIC_ORIGIN}/kb/"' in page
    assert "1 public article published" in page
    assert 'href="/knowledge"' in page


def test_save_turns_the_help_center_off_and_on(admin_client: Client, client: Client) -> None:
    article = make_article("Reset your password")
    response = admin_client.post("/admin/apps/kb", {"language": "de"})
    assert response.status_code == 302 and response["Location"].endswith("/admin/apps#kb-title")
    assert _kb_settings() == {"kb_enabled": False, "kb_language": "de"}
    page = admin_client.get("/admin/apps").content.decode()
    assert "Knowledge base saved." in page
    assert 'id="kb-enabled" name="enabled">' in page and '<option value="de" selected>Deutsch</option>' in page
    # What customers see follows at once.
    assert client.get("/kb/").status_code == 404 and client.get(f"/kb/{article.slug}").status_code == 404
    assert client.get("/widget/kb/search", {"q": "password"}).status_code == 404

    admin_client.post("/admin/apps/kb", {"enabled": "on", "language": "hr"})
    assert _kb_settings() == {"kb_enabled": True, "kb_language": "hr"}
    assert client.get(f"/kb/{article.slug}").status_code == 200


@pytest.mark.parametrize("language", ["", "xx", "EN", "de-AT", "en" * 100, "<script>"])
def test_bad_input_says_what_and_changes_nothing(admin_client: Client, language: str) -> None:
    response = admin_client.post("/admin/apps/kb", {"language": language})
    assert response.status_code == 302
    assert _kb_settings() == DEFAULTS
    page = admin_client.get("/admin/apps").content.decode()
    assert "Knowledge base saved." not in page
    assert "Choose the knowledge base&#x27;s language from the list." in page


def test_only_admins(agent_client: Client, client: Client) -> None:
    assert agent_client.post("/admin/apps/kb", {"language": "de"}).status_code == 403
    assert client.post("/admin/apps/kb", {"language": "de"}).status_code in (302, 403)
    assert _kb_settings() == DEFAULTS
