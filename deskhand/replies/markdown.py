"""The reply box's Markdown as mail HTML (pure): CommonMark with line breaks kept, raw HTML shown as
text, then sanitized (core.html); and the same Markdown as the mail's plain text."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from deskhand.core.html import sanitize_html

# `html: False`: a `<script>` typed in the box is text, not markup. `breaks`: a line break typed is
# a line break sent (people write replies, not documents). markdown-it refuses javascript:, vbscript:
# and data: links (except images) itself; nh3 then keeps only the schemes core.html allows.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
_IMAGE = re.compile(r"!\[([^\]\n]{0,200})\]\(([^)\s]{1,500})\)")


def to_html(markdown: str) -> str:
    return sanitize_html(_MARKDOWN.render(markdown))


def to_text(markdown: str) -> str:
    """What the plain-text part says: the Markdown as typed, images as `[image: name]`."""
    return _IMAGE.sub(lambda match: f"[image: {match.group(1) or 'image'}]", markdown)


def image_sources(markdown: str) -> list[str]:
    return [match.group(2) for match in _IMAGE.finditer(markdown)]


def replace_image_sources(markdown: str, sources: dict[str, str]) -> str:
    """The Markdown with image sources swapped (a pasted image's address for its `cid:`)."""
    def swap(match: re.Match[str]) -> str:
        source = match.group(2)
        return f"![{match.group(1)}]({sources.get(source, source)})"
    return _IMAGE.sub(swap, markdown)
