from django.apps import AppConfig


class WorkConfig(AppConfig):
    name = "deskhand.work"
    label = "work"
