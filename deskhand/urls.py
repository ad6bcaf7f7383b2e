from django.urls import path

from deskhand.api.api import api
from deskhand.system.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
]
