"""Which language a page or a mail is in: the languages Deskhand ships, a language tag (`de-AT`,
`fr_CA`, `no`) read as one of them, the browser's choice among them, and the middleware that
activates a language for each request.

Customers read every language in `settings.LANGUAGES`; the agents' app is translated into
`AGENT_LANGUAGES` only. Customer pages (`CUSTOMER_PATHS`) take the language chosen in this browser
(the portal's switcher, a cookie), else the browser's; the portal then puts a signed-in customer's
own language first (`deskhand.portal.language`). Agents' pages take the signed-in agent's language,
else the browser's among the agents' languages. Anything unsupported is English.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

DEFAULT = "en"
AGENT_LANGUAGES = ("en", "de")
CUSTOMER_PATHS = ("/portal/", "/forms/", "/surveys/", "/kb/", "/widget/")
# Tags that name a language we ship under another code: Norwegian (`no`) and Nynorsk readers
# read Bokmål far better than English.
ALIASES = {"no": "nb", "nn": "nb"}
MAX_TAG = 64  # a header value longer than this is not a language tag


def languages() -> tuple[str, ...]:
    """The codes of the languages customers can read (settings.LANGUAGES)."""
    return tuple(code for code, _name in settings.LANGUAGES)


def supported_language(tag: str | None, allowed: Iterable[str] | None = None) -> str:
    """`tag` (`de-AT`, `fr_CA`, ` NB `, `no`) as one of the `allowed` codes (default: all we ship),
    or "" when it names none of them."""
    if not tag or len(tag) > MAX_TAG:
        return ""
    codes = tuple(allowed) if allowed is not None else languages()
    base = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    base = ALIASES.get(base, base)
    return base if base in codes else ""


def first_supported(tags: str, allowed: Iterable[str] | None = None) -> str:
    """The first supported language of a comma-separated list (a Content-Language header)."""
    codes = tuple(allowed) if allowed is not None else languages()
    for tag in tags[:500].split(",")[:10]:
        found = supported_language(tag, codes)
        if found:
            return found
    return ""


def browser_language(request: HttpRequest, allowed: Iterable[str] | None = None) -> str:
    """The most preferred of the browser's Accept-Language that we ship, or ""."""
    codes = tuple(allowed) if allowed is not None else languages()
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")[:1000]
    for tag, _quality in parse_accept_lang_header(header):
        found = supported_language(tag, codes)
        if found:
            return found
    return ""


def chosen_language(request: HttpRequest) -> str:
    """The language picked with the portal's switcher in this browser (a cookie), or ""."""
    return supported_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""))


def is_customer_page(request: HttpRequest) -> bool:
    return request.path_info.startswith(CUSTOMER_PATHS)


def use_language(request: HttpRequest, language: str) -> None:
    """Activate `language` for the rest of this request (LanguageMiddleware restores the previous
    one when the response is done)."""
    translation.activate(language)
    request.LANGUAGE_CODE = language


def request_language(request: HttpRequest) -> str:
    """The language a request starts in, before the portal looks at a signed-in customer."""
    if is_customer_page(request):
        return chosen_language(request) or browser_language(request) or DEFAULT
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        own = supported_language(getattr(user, "language", ""), AGENT_LANGUAGES)
        if own:
            return own
    return browser_language(request, AGENT_LANGUAGES) or DEFAULT


class LanguageMiddleware:
    """Activates the request's language (after AuthenticationMiddleware, which it reads) for the
    view and the response, then restores the previous one: nothing leaks to the next request
    served by the thread."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        language = request_language(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", translation.get_language() or language)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response
