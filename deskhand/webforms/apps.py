from django.apps import AppConfig


class WebformsConfig(AppConfig):
    name = "deskhand.webforms"
    label = "webforms"
    default_auto_field = "django.db.models.BigAutoField"
