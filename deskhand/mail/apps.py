from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "deskhand.mail"
    label = "mail"
