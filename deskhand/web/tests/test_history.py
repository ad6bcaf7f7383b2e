"""Readable history: every action the services record reads as a sentence with names, on items,
customers, organizations and projects; ids resolve in one query per kind; unknown actions and
deleted records read neutrally; names are escaped."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from deskhand.agents.models import Agent, Team
from deskhand.agents.services import create_team
from deskhand.audit.models import AuditEvent
from deskhand.core.actors import SYSTEM, Actor
from deskhand.customers.models import Customer, Organization, Source
from deskhand.customers.services import add_domain, create_organization, find_or_create_customer, move_customer
from deskhand.fields.services import create_custom_field
from deskhand.web.history import readable
from deskhand.work.inputs import AssigneeRef, ItemChanges, ItemDraft
from deskhand.work.models import Item, Portfolio
from deskhand.work.services.items import change_item, submit_ticket

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def world(agent: Agent, admin: Agent) -> dict[str, Any]:
    acme = create_organization("Acme", domains=["acme.example"], actor=SYSTEM)
    globex = create_organization("Globex", actor=SYSTEM)
    carl, _ = find_or_create_customer("carl@acme.example", name="Carl Customer", source=Source.EMAIL, actor=SYSTEM)
    team = create_team("First line", actor=Actor.agent(admin))
    gone = Organization.objects.create(name="Gone")
    gone_id = gone.pk
    gone.delete()
    portfolio = Portfolio.objects.create(name="Clients")
    create_custom_field(applies_to="ticket", key="plan", label="Plan", type="text", actor=Actor.agent(admin))
    return {"agent": agent, "acme": acme, "globex": globex, "carl": carl, "team": team, "gone": gone_id,
            "portfolio": portfolio}


def _event(action: str, changes: dict[str, Any], *, object_type: str = "item", actor: str = "agent",
           w: dict[str, Any]) -> AuditEvent:
    who = {"agent": dict(actor_kind="agent", actor_label="ana@deskhand.test", actor_agent_id=w["agent"].pk),
           "rule": dict(actor_kind="rule", actor_label="Automation “Route Acme” (#4)"),
           "system": dict(actor_kind="system", actor_label="system"),
           "customer": dict(actor_kind="customer", actor_label="carl@acme.example"),
           "token": dict(actor_kind="token", actor_label="ana@deskhand.test (API token ci)",
                         actor_agent_id=w["agent"].pk)}[actor]
    return AuditEvent.objects.create(action=action, object_type=object_type, object_id=1, changes=changes, **who)


# (action, changes, object_type, actor, subject, kind, expected sentence, expected detail or "")
CASES: list[tuple[str, Any, str, str, str, str, str, str]] = [
    ("ticket.created", lambda w: {"status": "new", "priority": "normal", "requester": "carl@acme.example",
                                  "channel": "email", "assignees": [], "title": "Printer"},
     "item", "customer", "the ticket", "ticket", "Carl Customer created the ticket by email.", ""),
    ("ticket.created", lambda w: {"requester": "carl@acme.example", "channel": "web",
                                  "assignees": [f"team:{w['team'].pk}"]},
     "item", "agent", "the ticket", "ticket",
     "Ana Agent created the ticket for Carl Customer and assigned it to First line.", ""),
    ("ticket.updated", lambda w: {"priority": {"old": "normal", "new": "high"}},
     "item", "agent", "the ticket", "ticket", "Ana Agent changed the priority from Normal to High.", ""),
    ("ticket.updated", lambda w: {"status": {"old": "new", "new": "pending"}},
     "item", "agent", "the ticket", "ticket", "Ana Agent changed the status from New to Pending.", ""),
    ("ticket.updated", lambda w: {"assignees": {"old": [], "new": [f"team:{w['team'].pk}"]}},
     "item", "rule", "the ticket", "ticket", "Rule “Route Acme” assigned the ticket to First line.", ""),
    ("ticket.updated", lambda w: {"assignees": {"old": [f"agent:{w['agent'].pk}"], "new": []},
                                  "followers": {"old": [], "new": [f"customer:{w['carl'].pk}"]}},
     "item", "agent", "the ticket", "ticket",
     "Ana Agent unassigned Ana Agent; added Carl Customer as a follower.", ""),
    ("task.updated", lambda w: {"title": {"old": "A", "new": "B"}, "description": {"changed": True},
                                "project": {"old": None, "new": "Website"}},
     "item", "agent", "the task", "task",
     "Ana Agent renamed it from “A” to “B”; edited the description; moved it to the project Website.", ""),
    ("ticket.updated", lambda w: {"organization": {"old": "Acme", "new": "Globex"},
                                  "requester": {"old": "carl@acme.example", "new": "zoe@globex.example"}},
     "item", "agent", "the ticket", "ticket",
     "Ana Agent moved it from Acme to Globex; changed the requester from Carl Customer to zoe@globex.example.", ""),
    ("ticket.updated", lambda w: {"custom_fields": {"old": {}, "new": {"plan": "Gold"}}},
     "item", "token", "the ticket", "ticket", "Ana Agent (through the API) set Plan to Gold.", ""),
    ("ticket.follower_added", lambda w: {"customer": "carl@acme.example"},
     "item", "agent", "the ticket", "ticket", "Ana Agent added Carl Customer as a follower.", ""),
    ("ticket.follower_removed", lambda w: {"customer": "carl@acme.example"},
     "item", "customer", "the ticket", "ticket", "Carl Customer stopped following the ticket.", ""),
    ("ticket.task_created", lambda w: {"task": "T-7", "title": "Replace toner"},
     "item", "agent", "the ticket", "ticket", "Ana Agent made the task T-7 “Replace toner” from this ticket.", ""),
    ("message.customer", lambda w: {"message": 3, "attachments": ["log.txt"]},
     "item", "customer", "the ticket", "ticket", "Carl Customer wrote with log.txt.", ""),
    ("message.reply", lambda w: {"message": 4, "attachments": [], "to": ["carl@acme.example"]},
     "item", "agent", "the ticket", "ticket", "Ana Agent replied to Carl Customer.", ""),
    ("message.note", lambda w: {"message": 5, "attachments": []},
     "item", "agent", "the ticket", "ticket", "Ana Agent added an internal note.", ""),
    ("time.logged", lambda w: {"entry": 1, "agent": "ana@deskhand.test", "minutes": 90, "date": "2026-12-01",
                               "billable": False},
     "item", "agent", "the ticket", "ticket", "Ana Agent logged 1 h 30 min on Dec. 1, 2026 (not billable).", ""),
    ("time.updated", lambda w: {"entry": 1, "minutes": {"old": 30, "new": 60}, "billable": {"old": True, "new": False}},
     "item", "agent", "the ticket", "ticket",
     "Ana Agent changed logged time from 30 min to 1 h; marked logged time not billable.", ""),
    ("time.deleted", lambda w: {"entry": 1, "agent": "admin@deskhand.test", "minutes": 45, "date": "2026-12-01"},
     "item", "agent", "the ticket", "ticket", "Ana Agent removed 45 min logged by Ada Admin on Dec. 1, 2026.", ""),
    ("automation.ran", lambda w: {"automation": 4, "name": "Route Acme", "matched": ["organization is Acme"],
                                  "did": ["assigned to First line"]},
     "item", "rule", "the ticket", "ticket", "Rule “Route Acme” ran: assigned to First line.",
     "Because organization is Acme"),
    ("automation.failed", lambda w: {"automation": 4, "name": "Route Acme", "error": "No such team."},
     "item", "rule", "the ticket", "ticket", "Rule “Route Acme” failed: No such team..", ""),
    ("automation.stopped", lambda w: {"automation": 4, "name": "Route Acme", "warning": "…"},
     "item", "rule", "the ticket", "ticket",
     "Rule “Route Acme” stopped: it would have run again on its own changes, so it ran once.", ""),
    ("sla.applied", lambda w: {"policy": "Gold", "first_response_due": None, "resolution_due": None},
     "item", "agent", "the ticket", "ticket", "Ana Agent applied the SLA “Gold”.", ""),
    ("sla.breached", lambda w: {"policy": "Gold", "target": "first_response"},
     "item", "system", "the ticket", "ticket", "The first response target of the SLA “Gold” was missed.", ""),
    ("sla.at_risk", lambda w: {"policy": "Gold", "target": "at_risk"},
     "item", "system", "the ticket", "ticket", "The SLA “Gold” is close to being missed.", ""),
    ("survey.sent", lambda w: {"to": "carl@acme.example"},
     "item", "system", "the ticket", "ticket", "Deskhand sent a satisfaction survey to Carl Customer.", ""),
    ("survey.answered", lambda w: {"rating": "good", "comment": "Quick!"},
     "item", "customer", "the ticket", "ticket", "Carl Customer rated the ticket Good: “Quick!”.", ""),
    ("customer.created", lambda w: {"organization": w["acme"].pk, "source": "email", "filed": "owned domain"},
     "customer", "system", "Carl Customer", "customer", "Deskhand added Carl Customer from an email to Acme.",
     "Filed there because its domain belongs to the organization"),
    ("customer.moved", lambda w: {"organization": {"old": w["acme"].pk, "new": w["globex"].pk}, "reason": "by hand"},
     "customer", "agent", "Carl Customer", "customer", "Ana Agent moved Carl Customer from Acme to Globex.", ""),
    ("customer.moved", lambda w: {"organization": {"old": w["gone"], "new": None},
                                  "reason": "organization “Gone” deleted"},
     "customer", "agent", "Carl Customer", "customer",
     "Ana Agent moved Carl Customer from a deleted organization to No organization.",
     "Because the organization “Gone” deleted"),
    ("customer.updated", lambda w: {"name": {"old": "", "new": "Carl"}, "notes": {"old": "", "new": "VIP"},
                                    "organization": {"old": None, "new": w["acme"].pk}},
     "customer", "agent", "Carl", "customer",
     "Ana Agent set the name to Carl; edited the notes; moved Carl from No organization to Acme.", ""),
    ("customer.merged", lambda w: {"merged": 9, "email": "c.c@acme.example"},
     "customer", "agent", "Carl Customer", "customer", "Ana Agent merged c.c@acme.example into Carl Customer.", ""),
    ("customer.merged_into", lambda w: {"into": w["carl"].pk, "email": "carl@acme.example"},
     "customer", "agent", "Old Carl", "customer", "Ana Agent merged Old Carl into Carl Customer.", ""),
    ("customer.deleted", lambda w: {}, "customer", "agent", "Carl Customer", "customer",
     "Ana Agent deleted Carl Customer.", ""),
    ("portal.registered", lambda w: {}, "customer", "customer", "Carl Customer", "customer",
     "Carl Customer registered on the portal.", ""),
    ("portal.sign_in_link_sent", lambda w: {}, "customer", "customer", "Carl Customer", "customer",
     "Carl Customer was sent a sign-in link.", ""),
    ("portal.previewed", lambda w: {}, "customer", "agent", "Carl Customer", "customer",
     "Ana Agent previewed the portal as Carl Customer.", ""),
    ("organization.created", lambda w: {"name": "Acme", "domains": ["acme.de"], "custom_fields": {}},
     "organization", "agent", "Acme", "organization", "Ana Agent created Acme with the domain acme.de.", ""),
    ("organization.created", lambda w: {"domain": "acme.de", "name": "acme.de",
                                        "triggered_by": "carl@acme.example"},
     "organization", "rule", "acme.de", "organization", "Rule “Route Acme” created acme.de for the domain acme.de.",
     "The first mail came from Carl Customer"),
    ("organization.domain_added", lambda w: {"domain": "acme.de"}, "organization", "agent", "Acme", "organization",
     "Ana Agent added the domain acme.de.", ""),
    ("organization.domain_added", lambda w: {"domain": "xn--bcher-kva.de"}, "organization", "agent", "Acme",
     "organization", "Ana Agent added the domain bücher.de.", ""),
    ("organization.domain_removed", lambda w: {"domain": "acme.de"}, "organization", "agent", "Acme",
     "organization", "Ana Agent removed the domain acme.de.", ""),
    ("organization.domain_applied", lambda w: {"domain": "acme.de", "moved_customers": 3}, "organization", "agent",
     "Acme", "organization", "Ana Agent moved 3 customers of acme.de from No organization to Acme.", ""),
    ("organization.updated", lambda w: {"name": {"old": "ACME", "new": "Acme"},
                                        "portal_visibility": {"old": None, "new": "organization"}},
     "organization", "agent", "Acme", "organization",
     "Ana Agent renamed it from “ACME” to “Acme”; let its customers see every request of their organization "
     "on the portal.", ""),
    ("organization.merged", lambda w: {"merged": 5, "name": "Acme GmbH", "domains": ["acme.de"], "customers": 2,
                                       "items": 4},
     "organization", "agent", "Acme", "organization", "Ana Agent merged Acme GmbH into Acme.",
     "Brought 2 customers and 4 tickets and tasks and the domains acme.de"),
    ("organization.merged_into", lambda w: {"into": w["globex"].pk}, "organization", "agent", "Acme",
     "organization", "Ana Agent merged Acme into Globex.", ""),
    ("organization.deleted", lambda w: {"name": "Acme", "domains": [], "customers_unassigned": 1}, "organization",
     "agent", "Acme", "organization", "Ana Agent deleted Acme; 1 customer went to No organization.", ""),
    ("project.created", lambda w: {"name": "Website", "portfolio": "Clients", "organization": "Acme"},
     "project", "agent", "Website", "project", "Ana Agent created Website in the portfolio Clients for Acme.", ""),
    ("project.updated", lambda w: {"portfolio": {"old": None, "new": w["portfolio"].pk}}, "project", "agent",
     "Website", "project", "Ana Agent set the portfolio to Clients.", ""),
    ("webhook.fired", lambda w: {"url": "https://x"}, "item", "system", "the ticket", "ticket",
     "Deskhand changed the ticket.", ""),
    ("customer.exploded", lambda w: {"organization": 3}, "customer", "agent", "Carl Customer", "customer",
     "Ana Agent changed Carl Customer.", ""),
]


@pytest.mark.parametrize(("action", "changes", "object_type", "actor", "subject", "kind", "sentence", "detail"),
                         CASES, ids=[f"{case[0]}-{n}" for n, case in enumerate(CASES)])
def test_each_action_reads_as_a_sentence_with_names(world: dict[str, Any], action: str, changes: Any,
                                                    object_type: str, actor: str, subject: str, kind: str,
                                                    sentence: str, detail: str) -> None:
    row = _event(action, changes(world), object_type=object_type, actor=actor, w=world)
    [line] = readable([row], subject=subject, kind=kind)
    assert _text(line.sentence) == sentence
    assert [_text(d) for d in line.details] == ([detail] if detail else [])
    assert action not in line.sentence and "agent:" not in line.sentence


def test_names_are_read_in_one_query_per_kind_whatever_the_rows(world: dict[str, Any]) -> None:
    rows = [_event(action, changes(world), object_type=object_type, actor=actor, w=world)
            for action, changes, object_type, actor, *_rest in CASES] * 5
    with CaptureQueriesContext(connection) as captured:
        readable(rows, subject="the ticket", kind="ticket")
    # agents, customers, teams, organizations, portfolios, statuses, custom fields
    assert len(captured) <= 7


def test_names_are_escaped_and_stripped_of_direction_overrides(world: dict[str, Any]) -> None:
    Customer.objects.filter(pk=world["carl"].pk).update(name="<b>Carl</b>\u202egnp.exe")
    row = _event("message.customer", {"message": 1, "attachments": ["<script>x</script>.txt"]}, actor="customer",
                 w=world)
    [line] = readable([row], subject="the ticket", kind="ticket")
    assert "&lt;b&gt;Carl&lt;/b&gt;gnp.exe" in line.sentence and "<script>" not in line.sentence
    assert "\u202e" not in line.sentence


def _ticket() -> Item:
    return submit_ticket(ItemDraft(title="Printer on fire", requester_email="carl@acme.example"), actor=SYSTEM)


def test_item_page_history_reads_as_sentences(agent_client: Client, world: dict[str, Any]) -> None:
    ticket = _ticket()
    change_item(ticket, changes=ItemChanges(priority="high", assignees=[AssigneeRef(kind="team", id=world["team"].pk)]),
                actor=Actor.agent(world["agent"]))
    page = agent_client.get(f"/tickets/{ticket.pk}").content.decode()
    history = _text(page[page.index('id="history"'):page.index("</section>", page.index('id="history"'))])
    assert "Deskhand created the ticket for Carl Customer." in history
    assert "Ana Agent changed the priority from Normal to High; assigned the ticket to First line." in history
    assert "ticket.updated" not in history and f"team:{world['team'].pk}" not in history


def test_customer_and_organization_pages_read_as_sentences(agent_client: Client, world: dict[str, Any]) -> None:
    ana = Actor.agent(world["agent"])
    move_customer(world["carl"], to=world["globex"], actor=ana)
    add_domain(world["globex"], "globex.example", actor=ana)
    page = _text(agent_client.get(f"/customers/{world['carl'].pk}").content.decode())
    assert "Ana Agent moved Carl Customer from Acme to Globex." in page
    assert "Deskhand added Carl Customer from an email to Acme." in page and "customer.moved" not in page
    page = _text(agent_client.get(f"/organizations/{world['globex'].pk}").content.decode())
    assert "Ana Agent added the domain globex.example." in page and "organization.domain_added" not in page


def test_a_team_deleted_since_reads_as_a_deleted_team(world: dict[str, Any]) -> None:
    team_id = world["team"].pk
    Team.objects.filter(pk=team_id).delete()
    row = _event("ticket.updated", {"assignees": {"old": [], "new": [f"team:{team_id}"]}}, w=world)
    [line] = readable([row], subject="the ticket", kind="ticket")
    assert _text(line.sentence) == "Ana Agent assigned the ticket to a deleted team."
