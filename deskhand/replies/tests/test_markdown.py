"""The reply box's Markdown: formatting kept, anything that runs or loads from a trap removed."""

from __future__ import annotations

from deskhand.replies.markdown import replace_image_sources, to_html, to_text


def test_markdown_becomes_html_and_stays_text() -> None:
    source = "**Bold** and *italic*\n\n- one\n- two\n\n[the docs](https://docs.example/a)\nline two"
    html = to_html(source)
    assert "<strong>Bold</strong>" in html and "<em>italic</em>" in html
    assert "<ul>\n<li>one</li>" in html
    assert '<a href="https://docs.example/a" rel="noopener noreferrer nofollow">the docs</a><br>' in html
    assert to_text(source) == source


def test_scripts_handlers_and_javascript_links_are_stripped() -> None:
    html = to_html('<script>alert(1)</script> <img src=x onerror="alert(2)">\n\n'
                   '[click](javascript:alert(3)) [data](data:text/html;base64,PHNjcmlwdD4=) '
                   '<a href="javascript:alert(4)">raw</a>\n\n![x](javascript:alert(5))')
    # Raw HTML is text, and links to javascript: or data: are not links.
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as typed, never run
    html = to_html("[ok](https://fine.example) [bad](javascript:alert(3)) ![i](javascript:alert(5))")
    assert html.count("href=") == 1 and "<img" not in html


def test_pasted_images_point_at_their_part_and_read_as_text() -> None:
    source = "See ![screen.png](/replies/images/abc)"
    assert to_text(source) == "See [image: screen.png]"
    html = to_html(replace_image_sources(source, {"/replies/images/abc": "cid:abc@deskhand"}))
    assert '<img src="cid:abc@deskhand" alt="screen.png">' in html
