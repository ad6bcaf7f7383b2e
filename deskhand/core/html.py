"""HTML from the outside world: sanitised for display, and turned into plain text (pure functions)."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import nh3

# What a mail may keep: text formatting, links, tables and images; nothing that runs or styles
# the page around it. `cid:` stays so that inline images can be pointed at their attachment.
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span",
    "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "*": {"dir", "lang"},
}
_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
MAX_HTML = 2_000_000


def sanitize_html(html: str) -> str:
    """`html` with scripts, styles, event handlers, forms and frames removed; links open safely."""
    if not html:
        return ""
    return nh3.clean(
        html[:MAX_HTML], tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow", strip_comments=True,
        clean_content_tags={"script", "style", "title", "head", "noscript", "template"},
    )


_BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr",
           "dd", "dt"}
_SKIP = {"script", "style", "head", "title", "noscript", "template"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "td":
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text of `html`: block elements become line breaks, entities are decoded."""
    if not html:
        return ""
    collector = _TextCollector()
    collector.feed(html[:MAX_HTML])
    collector.close()
    text = unescape("".join(collector.parts)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
