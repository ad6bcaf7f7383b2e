"""Service URLs are read when settings load; a mistake is named without showing the URL."""

from __future__ import annotations

import traceback

import pytest
from django.core.exceptions import ImproperlyConfigured

from deskhand.core.urlcheck import EMAIL_SCHEMES, POSTGRES_SCHEMES, REDIS_SCHEMES, checked_url


@pytest.mark.parametrize(("url", "schemes"), [
    ("smtp+tls://help%40acme.example:p%2Fss@mail.acme.example:587", EMAIL_SCHEMES),
    ("smtps://mail.acme.example", EMAIL_SCHEMES),
    ("smtp://help:p:ss@mail.acme.example", EMAIL_SCHEMES),  # the first : ends the user name
    ("redis://:pa%23ss@redis:6379/0", REDIS_SCHEMES),
    ("rediss://default:p@ss@redis.example:6380/1", REDIS_SCHEMES),  # the last @ ends the password
    ("unix:///run/redis.sock?db=2", REDIS_SCHEMES),
    ("postgres://deskhand:p%3Ass@db:5432/deskhand?sslmode=require", POSTGRES_SCHEMES),
    ("postgresql:///deskhand", POSTGRES_SCHEMES),
])
def test_urls_that_their_readers_understand_pass(url: str, schemes: tuple[str, ...]) -> None:
    assert checked_url("SOME_URL", f" {url} ", schemes=schemes) == url


@pytest.mark.parametrize(("url", "schemes", "expected"), [
    ("redis://:Secret/Part@redis:6379/0", REDIS_SCHEMES, "SOME_URL cannot be read: percent-encode"),
    ("smtp://help:Secret#Part@mail:25", EMAIL_SCHEMES, "SOME_URL cannot be read: percent-encode"),
    ("smtp://mail:25#SecretPart", EMAIL_SCHEMES, "a # starts a fragment"),
    ("postgres://deskhand:Secret?Part@db/deskhand", POSTGRES_SCHEMES, "SOME_URL cannot be read"),
    ("http://help:SecretPart@mail:25", EMAIL_SCHEMES, "SOME_URL is a URL that starts with smtp:// or"),
    ("help:SecretPart@mail:25", EMAIL_SCHEMES, "SOME_URL is a URL that starts with smtp:// or"),
])
def test_a_url_that_cannot_be_read_is_refused_without_being_shown(
        url: str, schemes: tuple[str, ...], expected: str) -> None:
    with pytest.raises(ImproperlyConfigured) as caught:
        checked_url("SOME_URL", url, schemes=schemes)
    assert expected in str(caught.value)
    shown = "".join(traceback.format_exception(caught.value))  # what a process would print, causes included
    assert "Secret" not in shown and "Part" not in shown
