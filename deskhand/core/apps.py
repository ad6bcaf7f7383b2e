from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "deskhand.core"
    label = "core"
