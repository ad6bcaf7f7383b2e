"""The Content-Security-Policy every page is sent with (web.middleware), and its variants."""

from __future__ import annotations

# Every page: our own scripts, styles, images (mail's inline images are served by us; data: for
# small icons) and nothing else; never framed. No inline script or style attribute anywhere:
# behaviour lives in static/deskhand.js, looks in static/deskhand.css.
CONTENT_SECURITY_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "style-src": ("'self'",),
    "script-src": ("'self'",),
    "frame-ancestors": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "object-src": ("'none'",),
}


def policy_header(extra: dict[str, tuple[str, ...]] | None = None, *,
                  replace: dict[str, tuple[str, ...]] | None = None) -> str:
    """The policy, with `extra` sources added to their directives and `replace` directives set
    anew (a page that may be framed by any site: `{"frame-ancestors": ("*",)}`)."""
    directives = {name: list(sources) for name, sources in CONTENT_SECURITY_POLICY.items()}
    directives.update({name: list(sources) for name, sources in (replace or {}).items()})
    for name, sources in (extra or {}).items():
        directives.setdefault(name, []).extend(source for source in sources if source not in directives[name])
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())
