from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "deskhand.chat"
    default_auto_field = "django.db.models.BigAutoField"
