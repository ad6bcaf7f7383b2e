"""The portal's colour as a stylesheet of one rule: the pages allow no inline style (CSP)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from deskhand.config.queries import get_setting


@require_GET
@cache_control(max_age=60, public=True)
def brand_css(request: HttpRequest) -> HttpResponse:
    color = str(get_setting("brand_color"))  # validated as #rrggbb when saved
    css = (f"body.portal {{ --brand: {color}; }}\n"
           ".portal-head { border-top: 4px solid var(--brand); }\n"
           ".portal-brand, .portal a:not(.button) { color: var(--brand); }\n"
           ".portal .button.primary, .portal button.primary { background: var(--brand); border-color: var(--brand); "
           "color: #fff; }\n")
    return HttpResponse(css, content_type="text/css; charset=utf-8")
