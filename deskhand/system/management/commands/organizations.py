from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskhand.customers.models import Source
from deskhand.customers.queries import organization_list
from deskhand.customers.services import create_organization
from deskhand.system.cli import CLI_ACTOR, domain_errors_exit


class Command(BaseCommand):
    help = "Add and list customer organizations."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Add an organization.")
        add.add_argument("name")
        add.add_argument("--domain", action="append", default=[], help="an email domain it owns (repeatable)")
        add.add_argument("--apply-to-existing", action="store_true",
                         help="also move unassigned customers of these domains into it")
        listing = actions.add_parser("list", help="List organizations.")
        listing.add_argument("--search", default="")

    @domain_errors_exit
    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "add":
            organization = create_organization(
                options["name"], domains=options["domain"], apply_to_existing=options["apply_to_existing"],
                source=Source.CLI, actor=CLI_ACTOR,
            )
            domains = ", ".join(organization.domains.values_list("domain", flat=True)) or "no domains"
            self.stdout.write(f"Added organization {organization.pk}: {organization.name} ({domains})")
        else:
            for organization in organization_list(search=options["search"]).iterator(chunk_size=1000):
                domains = ",".join(row.domain for row in organization.domains.all())
                self.stdout.write(f"{organization.pk}\t{organization.name}\t{domains}\t{organization.customer_count}")  # type: ignore[attr-defined]
