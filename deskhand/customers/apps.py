from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "deskhand.customers"
    label = "customers"
