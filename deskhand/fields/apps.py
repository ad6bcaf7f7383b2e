from django.apps import AppConfig


class FieldsConfig(AppConfig):
    name = "deskhand.fields"
    label = "fields"
