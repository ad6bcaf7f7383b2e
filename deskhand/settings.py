"""The only settings module. It reads the environment through `conf` and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from deskhand.conf import conf
from deskhand.core.keys import checked_mailbox_key, checked_secret_key, new_secret_key
from deskhand.core.private import make_private_dir, private_file
from deskhand.core.storage import attachment_storage_settings, file_storage_settings
from deskhand.core.urlcheck import EMAIL_SCHEMES, POSTGRES_SCHEMES, REDIS_SCHEMES, checked_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = conf.data_dir.resolve()

# --- Private data (issue 11, item 11) ---------------------------------------------------------
# The data directory holds the database (with mailbox passwords), attachments and keys: only the
# user Deskhand runs as may read it. Every file this process creates (SQLite and its -wal/-shm,
# attachments, keys, logs) is 0600 and every directory 0700, whatever the shell's umask.
os.umask(0o077)
make_private_dir(DATA_DIR)
for _existing in [DATA_DIR / "secret_key", *DATA_DIR.glob("*.sqlite3*")]:
    if _existing.is_file() and _existing.stat().st_uid == os.geteuid():
        _existing.chmod(0o600)  # written by an older version with the umask's 0644
# Uploaded and attached files, whatever storage saves them.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# The key that encrypts mailbox passwords at rest (deskhand.core.crypto). Its own key, so that a
# rotated SECRET_KEY does not make the stored passwords unreadable: DESKHAND_MAILBOX_KEY (the same
# on every host), else this file, made when the first password is stored.
MAILBOX_KEY = checked_mailbox_key(conf.mailbox_key) if conf.mailbox_key else ""
MAILBOX_KEY_FILE = DATA_DIR / "mailbox_key"
# -----------------------------------------------------------------------------------------------

# DESKHAND_SECRET_KEY (the same on every host), else a file in the data directory, so that a fresh
# install needs no extra variable and sessions survive restarts.
SECRET_KEY = (checked_secret_key(conf.secret_key) if conf.secret_key
              else private_file(DATA_DIR / "secret_key", new_secret_key))
DEBUG = False
# Deskhand is self-hosted behind whatever name its owner gives it.
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    # Only for its static files: the API docs (/api/v1/docs) load Swagger UI from us, not a CDN.
    "ninja",
    "corsheaders",
    "deskhand.core",
    "deskhand.audit",
    "deskhand.agents",
    "deskhand.fields",
    "deskhand.config",
    "deskhand.customers",
    "deskhand.work",
    "deskhand.automations",
    "deskhand.replies",
    "deskhand.sla",
    "deskhand.surveys",
    "deskhand.notifications",
    "deskhand.accounts",
    "deskhand.webforms",
    "deskhand.kb",
    "deskhand.chat",
    "deskhand.mail",
    "deskhand.imports",
    "deskhand.system",
]

MIDDLEWARE = [
    # Request counts and latency for /metrics: outermost, so that they are the whole answer's.
    "deskhand.system.metrics.RequestMetricsMiddleware",
    # Outermost: it sees the cookies every other middleware set.
    "deskhand.web.middleware.SecureCookiesOverHttpsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The widget's endpoints from other sites (deskhand/widget/cors.py): preflights answered here.
    "corsheaders.middleware.CorsMiddleware",
    "deskhand.widget.cors.WidgetOriginMiddleware",
    "deskhand.web.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The agent's or the customer's language, else the browser's (deskhand/core/i18n.py).
    "deskhand.core.i18n.LanguageMiddleware",
    # The agent's time zone for the dates on their pages (deskhand/agents/middleware.py).
    "deskhand.agents.middleware.AgentTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "deskhand.api.middleware.JsonErrorsMiddleware",
]

ROOT_URLCONF = "deskhand.urls"

# CORS for the widget only: the origins come from the settings (deskhand/widget/cors.py), no cookies.
CORS_URLS_REGEX = r"^/widget/"
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ("accept", "content-type", "last-event-id", "x-chat-token")
CORS_ALLOW_METHODS = ("GET", "OPTIONS", "POST")
WSGI_APPLICATION = "deskhand.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "deskhand.portal.context.branding",
            ],
            # The agents' app is an interface package, not an installed app: its tags by name.
            "libraries": {"rows": "deskhand.web.templatetags.rows", "history": "deskhand.web.templatetags.history",
                          "workspace": "deskhand.web.templatetags.workspace",
                          "words": "deskhand.web.templatetags.words"},
            # `|idn`: stored ASCII domains shown in Unicode (bücher.de), in every template.
            "builtins": ["deskhand.core.templatetags.idn", "deskhand.core.templatetags.bidi"],
        },
    },
]


# Connections per process: the web server's threads (32 by default), the SMTP listener's and the
# worker's few, with room to spare; a request waits up to 20 s for one beyond that.
POOL_MAX = 48


def _databases() -> dict[str, dict[str, object]]:
    url = conf.database_url.strip() or f"sqlite:///{DATA_DIR / 'deskhand.sqlite3'}"
    if not url.lower().startswith("sqlite:"):
        url = checked_url("DATABASE_URL", url, schemes=(*POSTGRES_SCHEMES, "sqlite"))
    database: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the writer; IMMEDIATE takes the write lock when a
        # transaction starts, so concurrent writers queue for `timeout` seconds instead of
        # failing with "database is locked" half-way through (and, with our backend, take the
        # lock as soon as it is free: deskhand/core/sqlite/base.py).
        database["ENGINE"] = "deskhand.core.sqlite"
        database["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
        # A file, not memory, so that tests with several threads share one database; one per test
        # run (its process id), so that two runs on one checkout never write into each other's.
        database["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
    else:
        # Each web request runs on a thread of its own and closes its connections when it ends:
        # a pool makes that close a return instead of a new PostgreSQL session (3–10 ms each).
        # Pooled connections are not also persistent; the pool checks them before lending.
        # (With CONN_HEALTH_CHECKS, Django has the pool check a connection before lending it.)
        database["CONN_MAX_AGE"] = 0
        database["OPTIONS"] = {**dict(database.get("OPTIONS") or {}),  # type: ignore[call-overload]
                               "pool": {"min_size": 2, "max_size": POOL_MAX, "timeout": 20}}
    return {"default": database}


DATABASES = _databases()
DATABASE_VENDOR = "sqlite" if "sqlite" in str(DATABASES["default"]["ENGINE"]) else "postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "agents.Agent"
PASSWORD_HASHERS = [
    "deskhand.core.passwords.Argon2idHasher",
    # Hashes made before Argon2id verify, and are redone at the next sign-in.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # Not the agent's own address or name (agents.services validates with the agent), not all digits.
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("email", "name")}},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login"
SESSION_COOKIE_AGE = 14 * 24 * 3600
# One cache for all web processes when Redis is configured (report figures, list counts), else
# each process its own. A cache that does not answer is a miss, not an error (deskhand/core/cache.py).
CACHES = {"default": {"BACKEND": "deskhand.core.cache.ForgivingRedisCache", "LOCATION": conf.shared_redis_url,
                      "KEY_PREFIX": "deskhand", "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1}}
          } if conf.shared_redis_url else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MESSAGE_TAGS = {40: "error"}

# --- Languages (issue 15, item 7) ----------------------------------------------------------------
# Customers read all of these (mails, portal, survey page, forms); the agents' app is translated
# into deskhand.core.i18n.AGENT_LANGUAGES. Catalogues: locale/<code>/LC_MESSAGES/django.po, with
# the compiled .mo committed beside them (docs/decisions.md, "Translations").
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "German"),
    ("hr", "Croatian"),
    ("fr", "French"),
    ("es", "Spanish"),
    ("nb", "Norwegian Bokmål"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# -----------------------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the finders so that `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# A friendly page for an expired form instead of Django's explanation of CSRF for developers.
CSRF_FAILURE_VIEW = "deskhand.web.views.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Behind a TLS reverse proxy (DESKHAND_PUBLIC_URL=https://…): README "Behind a reverse proxy".
if conf.https:
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [conf.public_origin]
    SECURE_HSTS_SECONDS = conf.hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is the domain owner's commitment to the browsers' list, not the app's to make.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

STORAGES = {
    # The portal's logo and CSV files waiting for their import: beside the attachments, so that
    # every web host sees them.
    "default": file_storage_settings(conf.storage_url, location=DATA_DIR / "files"),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Item attachments: the data directory, or object storage (DESKHAND_STORAGE_URL).
    "attachments": attachment_storage_settings(conf.storage_url, location=DATA_DIR / "attachments"),
}

# These URLs may hold passwords: read here, so that no library's error message shows a part of one.
for _variable, _url, _schemes in (("DESKHAND_TASKS_URL", conf.tasks_url, REDIS_SCHEMES),
                                  ("DESKHAND_REDIS_URL", conf.redis_url, REDIS_SCHEMES),
                                  ("EMAIL_URL", conf.email_url, EMAIL_SCHEMES)):
    if _url.strip():
        checked_url(_variable, _url, schemes=_schemes)

# Tasks wait in the database by default; with DESKHAND_TASKS_URL in Redis, for RQ workers
# (`deskhand worker` runs whichever is configured).
# django_rq is installed either way: its tables exist in every database, so a backup of one
# configuration restores into the other (deskhand restore compares the applied migrations).
INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
if conf.tasks_url:
    RQ_QUEUES = {"default": {"URL": conf.tasks_url, "DEFAULT_TIMEOUT": 600, "DEFAULT_RESULT_TTL": 3600,
                             "SOCKET_TIMEOUT": 5, "SOCKET_CONNECT_TIMEOUT": 2}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TASKS_VENDOR = "redis" if conf.tasks_url else "database"

EMAIL_URL = conf.email_url
# Live chat's broker: Redis pub/sub across web processes when set, else in-process (deskhand/chat/broker.py).
REDIS_URL = conf.redis_url
# Links in mail (surveys, later the portal): the public address, or the local one by default.
PUBLIC_ORIGIN = conf.public_origin or f"http://{conf.http_addr}"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Paths in Django's request lines are shown without the tokens some of them carry.
    "filters": {"url_tokens": {"()": "deskhand.core.logfilters.HideUrlTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["url_tokens"]}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # aiosmtpd logs every connection at INFO as "mail.log".
    "loggers": {"django.db.backends": {"level": "WARNING"}, "mail.log": {"level": "WARNING"}},
}
