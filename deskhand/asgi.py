"""The ASGI application: `deskhand serve` runs it under granian; any ASGI server can
(`granian --interface asginl deskhand.asgi:application`)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskhand.settings")
django.setup(set_prefix=False)

from deskhand.conf import conf  # noqa: E402
from deskhand.system.asgi import build_application  # noqa: E402 - after django.setup()

application = build_application(threads=conf.web_threads)
