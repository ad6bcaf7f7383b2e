from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "deskhand.audit"
    label = "audit"
