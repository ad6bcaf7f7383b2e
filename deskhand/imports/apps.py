from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "deskhand.imports"
    label = "imports"
