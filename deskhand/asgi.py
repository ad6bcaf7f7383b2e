"""The ASGI application: `deskhand serve` runs it under granian; any ASGI server can
(`granian --interface asginl deskhand.asgi:application`)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskhand.settings")
django.setup(set_prefix=False)

from deskhand.conf import conf  # noqa: E402
from deskhand.system.asgi import build_application  # noqa: E402 - after django.setup()
from deskhand.system.webserver import die_with_parent  # noqa: E402

die_with_parent()
application = build_application(threads=conf.web_threads)
