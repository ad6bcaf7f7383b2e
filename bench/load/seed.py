"""Seed a fresh Deskhand for the load campaign: agents who sign in, API tokens, portal customers
with passwords, a support address and tickets to work on. Run with the environment of the
Deskhand under test (DESKHAND_DATA_DIR, DATABASE_URL); prints the credentials as JSON.

    .venv/bin/python bench/load/seed.py --agents 60 --customers 40 --tickets 2000 > seed.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

PASSWORD = "quiet-harbour-41"
SUPPORT = "support@deskhand.test"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--tokens", type=int, default=10)
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--tickets", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskhand.settings")
    import django

    django.setup()
    from deskhand.accounts import services as accounts
    from deskhand.accounts.inputs import Registration
    from deskhand.agents.services import create_agent, issue_token
    from deskhand.core.actors import SYSTEM
    from deskhand.mail.models import OutboundMessage
    from deskhand.mail.services import ensure_mailboxes
    from deskhand.work.inputs import ItemDraft
    from deskhand.work.services.items import submit_ticket

    ensure_mailboxes([SUPPORT], actor=SYSTEM)
    agents = [create_agent(f"agent{n}@load.example", name=f"Agent {n}", password=PASSWORD, is_admin=n == 0,
                           actor=SYSTEM) for n in range(args.agents)]
    tokens = [issue_token(agents[n % len(agents)], name="load", actor=SYSTEM)[1] for n in range(args.tokens)]
    customers = []
    for n in range(args.customers):
        email = f"customer{n}@client{n % 8}.example"
        registered = accounts.register(Registration(email=email, name=f"Customer {n}", password=PASSWORD))
        body = OutboundMessage.objects.filter(to__icontains=email).latest("id").body_text
        link = re.search(r"https?://[^/\s]+(/portal/\S+)", body)
        assert link is not None, body
        accounts.verify(link.group(1).rstrip("/").rsplit("/", 1)[1], mark=registered.mark)
        customers.append(email)
    drafts = [ItemDraft(title=f"Seeded request {n}", description="The printer on floor 3 jams.",
                        requester_email=customers[n % len(customers)] if customers else f"r{n}@client.example")
              for n in range(args.tickets)]
    ids: list[int] = []
    for start in range(0, len(drafts), 500):
        ids += [submit_ticket(draft, actor=SYSTEM).pk for draft in drafts[start:start + 500]]
    json.dump({"password": PASSWORD, "support": SUPPORT, "agents": [a.email for a in agents], "tokens": tokens,
               "customers": customers, "tickets": ids}, sys.stdout)


if __name__ == "__main__":
    main()
