from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "deskhand.config"
    label = "config"
