"""The widget's kb endpoints (mounted under /widget/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
