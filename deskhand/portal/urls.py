from django.urls import path

from deskhand.portal.views.surveys import survey

urlpatterns = [
    path("surveys/<str:token>", survey, name="survey"),
]
