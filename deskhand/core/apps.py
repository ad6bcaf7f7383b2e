from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "deskhand.core"
    label = "core"

    def ready(self) -> None:
        from django.urls import register_converter

        from deskhand.core.numbers import IdConverter

        register_converter(IdConverter, "id")
