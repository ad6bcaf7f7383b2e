from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "deskhand.agents"
    label = "agents"
