"""The task decorator: Django's own Tasks framework when present (Django 6), else the backport."""

from __future__ import annotations

try:  # pragma: no cover - depends on the Django version
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

__all__ = ["task"]
