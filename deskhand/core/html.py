"""HTML from the outside world: sanitised for display, and turned into plain text (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Callable
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


def sanitize_html(html: str, *, remote_images: bool = True) -> str:
    """`html` with scripts, styles, event handlers, forms and frames removed; links open safely.
    With `remote_images` false, images keep only `cid:` sources (see `without_remote_images`)."""
    return without_remote_images(html)[0] if not remote_images else _clean(html, None)


def without_remote_images(html: str) -> tuple[str, int]:
    """Sanitized `html` whose images load nothing from elsewhere, and how many sources were
    dropped. A remote image (http, https, `//host`, anything but the `cid:` parts the mail carries)
    tells its sender when and by whom the mail was read; its `alt` text stays. Styles, `srcset`
    and `background` are never kept, so `src` is the only way out."""
    blocked = 0

    def keep_local(tag: str, attribute: str, value: str) -> str | None:
        nonlocal blocked
        if tag == "img" and attribute == "src" and value.strip() and not value.strip().lower().startswith("cid:"):
            blocked += 1
            return None
        return value

    return _clean(html, keep_local), blocked


def _clean(html: str, attribute_filter: Callable[[str, str, str], str | None] | None) -> str:
    if not html:
        return ""
    return nh3.clean(
        html[:MAX_HTML], tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow", strip_comments=True, attribute_filter=attribute_filter,
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
