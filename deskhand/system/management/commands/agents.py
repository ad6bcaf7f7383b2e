from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskhand.agents.queries import agent_list
from deskhand.agents.services import create_agent
from deskhand.system.cli import CLI_ACTOR, domain_errors_exit


class Command(BaseCommand):
    help = "Add and list agents."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Add an agent.")
        add.add_argument("email")
        add.add_argument("--name", default="")
        add.add_argument("--password", default=None, help="lets the agent sign in to the web app")
        add.add_argument("--admin", action="store_true", help="an administrator")
        actions.add_parser("list", help="List agents.")

    @domain_errors_exit
    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "add":
            agent = create_agent(options["email"], name=options["name"], password=options["password"],
                                 is_admin=options["admin"], actor=CLI_ACTOR)
            self.stdout.write(f"Added agent {agent.pk}: {agent.email}{' (admin)' if agent.is_admin else ''}")
        else:
            for agent in agent_list():
                self.stdout.write(f"{agent.pk}\t{agent.email}\t{agent.name}\t{'admin' if agent.is_admin else 'agent'}")
