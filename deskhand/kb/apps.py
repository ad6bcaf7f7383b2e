from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "deskhand.kb"
    label = "kb"
    default_auto_field = "django.db.models.BigAutoField"
