"""The widget's kb endpoints (mounted under /widget/): deskhand/widget/kb.py."""

from django.urls import URLPattern, path

from deskhand.widget import kb

urlpatterns: list[URLPattern] = [
    path("kb/search", kb.search, name="kb-search"),
    path("kb/articles/<id:article_id>", kb.article, name="kb-article"),
    path("kb/articles/<id:article_id>/feedback", kb.feedback, name="kb-feedback"),
    path("kb/articles/<id:article_id>/deflected", kb.deflected, name="kb-deflected"),
]
