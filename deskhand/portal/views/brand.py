"""The portal's branding: its colour as a small stylesheet (the pages allow no inline style), and
its logo."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from deskhand.config.queries import get_setting
from deskhand.config.services import LOGO_PATH


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


@require_GET
@cache_control(max_age=300, public=True)
def logo(request: HttpRequest) -> HttpResponseBase:
    """The uploaded logo, served with the type its bytes were recognised as."""
    kind = str(get_setting("brand_logo_type"))
    if not kind or not default_storage.exists(LOGO_PATH):
        raise Http404("No logo.")
    response = FileResponse(default_storage.open(LOGO_PATH, "rb"), content_type=kind)
    response["X-Content-Type-Options"] = "nosniff"
    return response
