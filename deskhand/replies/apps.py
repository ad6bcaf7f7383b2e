from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "deskhand.replies"
    label = "replies"
    default_auto_field = "django.db.models.BigAutoField"
