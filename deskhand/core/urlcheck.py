"""Service URLs from the environment (DATABASE_URL, EMAIL_URL, DESKHAND_TASKS_URL, …) checked when
settings load (pure). They may hold passwords, and the libraries that read them later put parts
of a URL they cannot read into their error messages ("Port could not be cast to integer value as
'pa'" for `redis://:pa/ss@host`), which end up in logs. So a URL is read here first, and a
message names the variable and the mistake, never a part of the URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# What each reader understands: deskhand.mail.outbound._smtp, redis-py, psycopg (via dj-database-url).
EMAIL_SCHEMES = ("smtp", "smtp+tls", "submission", "smtps", "smtp+ssl")
REDIS_SCHEMES = ("redis", "rediss", "unix")
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")
ENCODING_HINT = "percent-encode / : @ # ? % in a user name or password (%2F %3A %40 %23 %3F %25)"


def checked_url(variable: str, url: str, *, schemes: tuple[str, ...]) -> str:
    """`url` when it can be read and its scheme is one of `schemes`, else ImproperlyConfigured."""
    url = url.strip()
    scheme, separator, _rest = url.partition("://")
    if not separator or scheme.lower() not in schemes:
        raise ImproperlyConfigured(f"{variable} is a URL that starts with {' or '.join(f'{s}://' for s in schemes)}.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number (a password's / does that)
    except ValueError:
        raise ImproperlyConfigured(f"{variable} cannot be read: {ENCODING_HINT}.") from None
    if parts.fragment:
        raise ImproperlyConfigured(f"{variable} cannot be read (a # starts a fragment): {ENCODING_HINT}.")
    return url
