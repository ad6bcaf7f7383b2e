from django.urls import include, path

from deskhand.api.api import api
from deskhand.system.metrics import metrics
from deskhand.system.views import favicon, healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/v1/", api.urls),
    path("", include("deskhand.widget.urls")),
    path("", include("deskhand.portal.urls")),
    path("", include("deskhand.web.urls")),
]

handler404 = "deskhand.web.views.errors.not_found"
handler500 = "deskhand.web.views.errors.server_error"
handler403 = "deskhand.web.views.errors.forbidden"
handler400 = "deskhand.web.views.errors.bad_request"
