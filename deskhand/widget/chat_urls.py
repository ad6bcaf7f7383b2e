"""The widget's chat endpoints (mounted under /widget/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
