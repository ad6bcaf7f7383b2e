"""The embeddable widget's endpoints (issue 16): the script a company puts on its own site and the
JSON and event-stream endpoints it calls from that site's origin. Everything under /widget/ answers
only the origins an admin allows (CORS, deskhand/widget/cors.py). The knowledge base's and the
chat's endpoints are listed by their own modules."""

from django.urls import include, path

from deskhand.widget import views

app_name = "widget"

urlpatterns = [
    path("widget.js", views.script, name="script"),
    path("widget/config", views.config, name="config"),
    path("widget/", include("deskhand.widget.kb_urls")),
    path("widget/", include("deskhand.widget.chat_urls")),
]
