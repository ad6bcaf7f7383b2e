"""Mail HTML for display: remote images blocked unless asked for."""

from __future__ import annotations

import pytest

from deskhand.core.html import sanitize_html, without_remote_images


@pytest.mark.parametrize("source", [
    "https://tracker.example/p.gif", "http://tracker.example/p.gif", "//tracker.example/p.gif",
    "HTTPS://TRACKER.EXAMPLE/P.GIF", " https://tracker.example/p.gif",
])
def test_no_remote_source_survives_by_default(source: str) -> None:
    html, blocked = without_remote_images(
        f'<img src="{source}" srcset="https://tracker.example/2x.gif 2x" style="background:url(https://t.example/b)"'
        f' alt="Logo"><div style="background-image:url(https://t.example/c)">Hi</div>'
        f'<table background="https://t.example/d.gif"><tr><td>x</td></tr></table>')
    assert "tracker" not in html.lower() and "t.example" not in html and "url(" not in html
    assert 'alt="Logo"' in html and blocked == 1


def test_inline_cid_images_stay_and_remote_ones_are_kept_when_asked_for() -> None:
    html = '<img src="cid:logo@acme.example"><img src="https://cdn.example/a.png">'
    assert without_remote_images(html) == ('<img src="cid:logo@acme.example"><img>', 1)
    assert 'src="https://cdn.example/a.png"' in sanitize_html(html)
    assert sanitize_html(html, remote_images=False) == '<img src="cid:logo@acme.example"><img>'
