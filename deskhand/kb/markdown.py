"""An article's Markdown as HTML and as plain text (pure): CommonMark with tables and
strikethrough, raw HTML shown as text, then sanitized (core.html) so that scripts, event handlers
and `javascript:` links never survive."""

from __future__ import annotations

from markdown_it import MarkdownIt

from deskhand.core.html import html_to_text, sanitize_html

# `html: False`: a `<script>` or `<img onerror>` in an article is text, not markup. markdown-it
# refuses javascript:, vbscript: and data: links itself; nh3 then keeps only the allowed schemes.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def to_html(markdown: str) -> str:
    return sanitize_html(_MARKDOWN.render(markdown))


def to_text(html: str) -> str:
    return html_to_text(html)
