"""Typed requests for the agents' app: signed in (`agent_required`), with django-htmx's details."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from deskhand.agents.models import Agent


class AgentRequest(HttpRequest):
    """What a view behind `agent_required` receives."""

    user: Agent  # login_required guarantees a signed-in agent
    htmx: HtmxDetails
