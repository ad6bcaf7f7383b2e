from django.apps import AppConfig


class SystemConfig(AppConfig):
    name = "deskhand.system"
    label = "system"
