from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskhand.agents.queries import get_agent_by_email, token_list
from deskhand.agents.services import issue_token, revoke_token
from deskhand.system.cli import CLI_ACTOR, domain_errors_exit
from deskhand.system.startup import ensure_configured_records


class Command(BaseCommand):
    help = "Create, list and revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Print a new API token for an agent (shown once).")
        create.add_argument("--email", required=True, help="the agent's email")
        create.add_argument("--name", default="", help="a label for the token, such as the script using it")
        listing = actions.add_parser("list", help="List tokens (never their secret).")
        listing.add_argument("--email", default=None)
        revoke = actions.add_parser("revoke", help="Revoke a token by id.")
        revoke.add_argument("token_id", type=int)

    @domain_errors_exit
    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "create":
            # The admin named by the environment may be asked for a token before `serve` first ran.
            ensure_configured_records()
            agent = get_agent_by_email(options["email"])
            _token, plain = issue_token(agent, name=options["name"], actor=CLI_ACTOR)
            self.stdout.write(f"API token for {agent.email} (shown once): {plain}")
        elif action == "list":
            owner = get_agent_by_email(options["email"]) if options["email"] else None
            for token in token_list(agent=owner):
                state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
                used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
                self.stdout.write(f"{token.pk}\t{token.prefix}…\t{token.agent.email}\t{token.name or '-'}\t"
                                  f"{state}\tlast used {used}")
        elif action == "revoke":
            token = revoke_token(options["token_id"], actor=CLI_ACTOR)
            self.stdout.write(f"Revoked token {token.pk} ({token.prefix}…) of {token.agent.email}.")
