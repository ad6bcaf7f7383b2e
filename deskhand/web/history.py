"""The audit trail as sentences people read: "Ana moved Carl from Acme to Globex", "Rule “Route
Acme” assigned the ticket to First line". Every action the services record has a sentence here;
ids and keys in `changes` become names through one batched lookup per kind (agents, teams,
customers, organizations, portfolios, statuses, custom fields), whatever the number of rows.

A sentence is built twice: the first pass only notes which names it needs, the second reads them.
Every name is user input, so every sentence is built with `format_html`."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import formats, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from deskhand.agents.models import Agent, Team
from deskhand.audit.models import AuditEvent
from deskhand.core.bidi import without_direction_controls
from deskhand.core.emailaddr import display_domain
from deskhand.customers.models import Customer, Organization, Source
from deskhand.fields.models import CustomField
from deskhand.work.models import Channel, Portfolio, Priority, Status

DELETED = {"agent": "a deleted agent", "team": "a deleted team", "customer": "a deleted customer",
           "organization": "a deleted organization", "portfolio": "a deleted portfolio"}
NO_ORGANIZATION = "No organization"
_RULE_LABEL = re.compile(r"^Automation “(?P<name>.*)” \(#\d+\)$")
_CHANNELS: dict[str, str] = {Channel.EMAIL: " by email", Channel.PORTAL: " on the portal", Channel.API: " through the API",
             Channel.FORM: " through a web form", Channel.CHAT: " in a chat"}
_SOURCES: dict[str, str] = {Source.AGENT: "", Source.API: " through the API", Source.CSV: " from a CSV import",
            Source.CLI: " on the command line", Source.EMAIL: " from an email", Source.PORTAL: " on the portal",
            Source.FORM: " from a web form", Source.CHAT: " from a chat", Source.AUTO: ""}
_FILED = {"owned domain": "its domain belongs to the organization",
          "auto-created organization": "a new organization was made for its domain",
          "free-mail domain": "a free-mail address belongs to no organization",
          "no owner and auto-create is off": "no organization owns its domain",
          "public suffix": "its domain is a public suffix", "chosen by hand": "chosen by hand"}
_PORTAL_RULES = {"requested": "only the requests they asked for",
                 "requested_or_following": "the requests they asked for or follow",
                 "organization": "every request of their organization"}
_LINKS = {"verify": "the verification link", "sign_in": "a sign-in link", "reset": "a password reset link",
          "invite": "the invitation link"}
_PRIORITIES = {priority.key: str(priority.label) for priority in Priority}
# Bounds: a row names at most this many people before "and 3 more"; a value shows this many characters.
MAX_NAMES = 10
MAX_VALUE = 120


@dataclass
class Line:
    """One history row: when, the sentence (escaped HTML) and optional further lines."""

    event: AuditEvent
    sentence: SafeString
    details: list[SafeString] = field(default_factory=list)

    @property
    def at(self) -> datetime.datetime:
        return self.event.created_at


# -- names -----------------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63 else None


class Names:
    """Names wanted by the sentences, read in one query per kind once every sentence said what it
    needs. Before `resolve` every lookup answers "" (the first pass only collects)."""

    def __init__(self) -> None:
        self.wanted: dict[str, set[Any]] = {kind: set() for kind in (
            "agent", "agent_email", "team", "customer", "customer_email", "organization", "portfolio", "status",
            "field")}
        self.found: dict[tuple[str, Any], str] = {}
        self.ready = False

    def _get(self, kind: str, key: Any, missing: str) -> str:
        if not self.ready:
            self.wanted[kind].add(key)
            return ""
        return self.found.get((kind, key), missing)

    def agent(self, pk: Any) -> str:
        return self._get("agent", pk, DELETED["agent"]) if _int(pk) else DELETED["agent"]

    def team(self, pk: Any) -> str:
        return self._get("team", pk, DELETED["team"]) if _int(pk) else DELETED["team"]

    def customer(self, pk: Any) -> str:
        return self._get("customer", pk, DELETED["customer"]) if _int(pk) else DELETED["customer"]

    def organization(self, pk: Any) -> str:
        if pk is None:
            return NO_ORGANIZATION
        return self._get("organization", pk, DELETED["organization"]) if _int(pk) else DELETED["organization"]

    def portfolio(self, pk: Any) -> str:
        return self._get("portfolio", pk, DELETED["portfolio"]) if _int(pk) else DELETED["portfolio"]

    def customer_email(self, email: Any) -> str:
        """A customer named by address: their name when they have one, else the address."""
        text = str(email or "")
        if not text:
            return DELETED["customer"]
        if not self.ready:  # the address as written and as stored may differ in case
            self.wanted["customer_email"].update({text, text.lower()})
            return ""
        return self.found.get(("customer_email", text.lower()), text)

    def agent_email(self, email: Any) -> str:
        text = str(email or "")
        if not text:
            return DELETED["agent"]
        if not self.ready:
            self.wanted["agent_email"].update({text, text.lower()})
            return ""
        return self.found.get(("agent_email", text.lower()), text)

    def person(self, email: Any) -> str:
        """An address that is an agent's or a customer's."""
        text = str(email or "")
        if not self.ready:
            self.agent_email(text)
            self.customer_email(text)
            return ""
        return self.found.get(("agent_email", text.lower())) or self.customer_email(text)

    def ref(self, ref: Any) -> str:
        """"agent:3", "team:2", "customer:7" as a name."""
        kind, _sep, pk = str(ref).partition(":")
        number = int(pk) if pk.isdigit() else None
        if kind == "agent":
            return self.agent(number)
        if kind == "team":
            return self.team(number)
        if kind == "customer":
            return self.customer(number)
        return "someone"

    def status(self, kind: str, key: Any) -> str:
        return self._get("status", (kind, str(key)), str(key)) if key else "none"

    def field(self, applies_to: str, key: Any) -> str:
        return self._get("field", (applies_to, str(key)), str(key).replace("_", " "))

    def know(self, *, agents: Iterable[Agent] = (), teams: Iterable[Team] = (), customers: Iterable[Customer] = (),
             statuses: Iterable[Status] = ()) -> Names:
        """Names the page loaded already: not asked for again."""
        for agent in agents:
            self.found["agent", agent.pk] = self.found["agent_email", agent.email.lower()] = agent.display_name
        for customer in customers:
            self.found["customer", customer.pk] = self.found["customer_email", customer.email.lower()] = (
                customer.display_name)
        self.found.update((("team", team.pk), team.name) for team in teams)
        self.found.update((("status", (status.kind, status.key)), status.label) for status in statuses)
        return self

    def resolve(self) -> None:
        """One query per kind of name wanted and not known yet."""
        found = self.found
        want = {kind: {key for key in keys if (kind, key) not in found and (kind, str(key).lower()) not in found}
                for kind, keys in self.wanted.items()}
        agents, agent_emails = {k for k in want["agent"] if _int(k)}, want["agent_email"]
        if agents or agent_emails:
            for agent in Agent.objects.filter(Q(pk__in=agents) | Q(email__in=agent_emails)).only("pk", "email", "name"):
                found["agent", agent.pk] = found["agent_email", agent.email.lower()] = agent.display_name
        customers, customer_emails = {k for k in want["customer"] if _int(k)}, want["customer_email"]
        if customers or customer_emails:
            for customer in Customer.objects.filter(Q(pk__in=customers) | Q(email__in=customer_emails)).only(
                    "pk", "email", "name"):
                found["customer", customer.pk] = found["customer_email", customer.email.lower()] = customer.display_name
        for kind, model in (("team", Team), ("organization", Organization), ("portfolio", Portfolio)):
            ids = {k for k in want[kind] if _int(k)}
            if ids:
                found.update(((kind, pk), name) for pk, name in model.objects.filter(
                    pk__in=ids).values_list("pk", "name"))
        if want["status"]:
            found.update((("status", (kind, key)), label) for kind, key, label in Status.objects.filter(
                key__in={key for _kind, key in want["status"]}).values_list("kind", "key", "label"))
        if want["field"]:
            found.update((("field", (applies_to, key)), label) for applies_to, key, label in CustomField.objects.filter(
                key__in={key for _kind, key in want["field"]}).values_list("applies_to", "key", "label"))
        for key, name in found.items():
            found[key] = without_direction_controls(name)
        self.ready = True


# -- pieces of sentences ---------------------------------------------------------------------------


def _and(parts: Sequence[Any]) -> SafeString:
    """"a", "a and b", "a, b and c", each part escaped (unless already safe)."""
    escaped = [str(conditional_escape(part)) for part in parts if part not in ("", None)]
    if len(escaped) > MAX_NAMES:
        escaped = [*escaped[:MAX_NAMES], f"{len(escaped) - MAX_NAMES} more"]
    if len(escaped) <= 1:
        return mark_safe("".join(escaped))  # noqa: S308 - escaped just above
    return mark_safe(f"{', '.join(escaped[:-1])} and {escaped[-1]}")  # noqa: S308 - escaped just above


def _value(value: Any) -> str:
    """A stored value as short text: lists joined, booleans as yes/no, long text cut."""
    if value is None or value == "" or value == []:
        return "nothing"
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(entry) for entry in value[:MAX_NAMES])
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_value(entry)}" for key, entry in list(value.items())[:MAX_NAMES])
    text = without_direction_controls(" ".join(str(value).split()))
    return text if len(text) <= MAX_VALUE else f"{text[:MAX_VALUE - 1]}…"


def _quoted(value: Any) -> SafeString:
    return format_html("“{}”", _value(value))


def _duration(minutes: Any) -> str:
    number = _int(minutes) or 0
    hours, rest = divmod(number, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _day(value: Any) -> str:
    try:
        return formats.date_format(datetime.date.fromisoformat(str(value)), "DATE_FORMAT")
    except ValueError:
        return _value(value)


def _moment(value: Any) -> str:
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return _value(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "DATETIME_FORMAT")


def _old_new(change: Any) -> tuple[Any, Any]:
    if isinstance(change, dict) and ("old" in change or "new" in change):
        return change.get("old"), change.get("new")
    return None, change


def _from_to(what: str, old: str, new: str, *, none: str = "nothing") -> SafeString:
    """"changed the name from “A” to “B”", or "set …" when it was empty, or "cleared …"."""
    if old in ("", none) and new not in ("", none):
        return format_html("set {} to {}", what, new)
    if new in ("", none):
        return format_html("cleared {} (was {})", what, old)
    return format_html("changed {} from {} to {}", what, old, new)


def _refs(value: Any) -> list[str]:
    return [str(ref) for ref in value] if isinstance(value, list) else []


def _custom_fields(old: Any, new: Any, applies_to: str, names: Names) -> list[SafeString]:
    old_values = old if isinstance(old, dict) else {}
    new_values = new if isinstance(new, dict) else {}
    return [_from_to(names.field(applies_to, key), _value(old_values.get(key)), _value(new_values.get(key)))
            for key in sorted(set(old_values) | set(new_values)) if old_values.get(key) != new_values.get(key)]


# -- the actor -------------------------------------------------------------------------------------


def actor_name(event: AuditEvent, names: Names) -> str:
    """Who did it, as a name: the agent's name, "Rule “Route Acme”", the customer's name."""
    kind, label = event.actor_kind, event.actor_label
    if kind in ("agent", "token") and event.actor_agent_id:
        name = names.agent(event.actor_agent_id)
        name = f"{name} (through the API)" if kind == "token" and name else name
        # A macro's changes are the agent's, "ana@… via macro “Refund”" (replies.services.via_macro).
        _, via, macro = label.partition(" via macro ")
        return f"{name} via macro {without_direction_controls(macro)}" if via else name
    if kind == "rule":
        matched = _RULE_LABEL.match(label)
        return f"Rule “{without_direction_controls(matched.group('name') if matched else label)}”"
    if kind == "customer":
        return names.customer_email(label)
    if kind == "system":
        return "Deskhand"
    return without_direction_controls(label) or "Someone"


# -- sentences -------------------------------------------------------------------------------------


@dataclass
class Context:
    """What a sentence needs besides its row: the names, who did it and what the page is about."""

    names: Names
    actor: str
    subject: str  # "the ticket", or the customer's or organization's name
    kind: str  # ticket | task | customer | organization | project


Said = tuple[SafeString, list[SafeString]]
Sentence = Callable[[AuditEvent, dict[str, Any], Context], Said | SafeString]


def _clauses(ctx: Context, clauses: Iterable[SafeString], *, otherwise: str = "") -> SafeString:
    parts = list(clauses)
    if not parts:
        return format_html("{} {}", ctx.actor, otherwise or f"changed {ctx.subject}")
    return format_html("{} {}", ctx.actor, mark_safe("; ".join(str(part) for part in parts)))  # noqa: S308 - safe parts


def _item_created(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    requester = changes.get("requester")
    for_whom = format_html(" for {}", ctx.names.customer_email(requester)) if (
        requester and str(requester).lower() != event.actor_label.lower()) else ""
    assignees = _refs(changes.get("assignees"))
    assigned = format_html(" and assigned it to {}", _and([ctx.names.ref(r) for r in assignees])) if assignees else ""
    return format_html("{} created {}{}{}{}", ctx.actor, ctx.subject, _CHANNELS.get(str(changes.get("channel")), ""),
                       for_whom, assigned)


def _item_updated(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    names, clauses = ctx.names, []
    for key, change in changes.items():
        old, new = _old_new(change)
        if key == "title":
            clauses.append(format_html("renamed it from {} to {}", _quoted(old), _quoted(new)))
        elif key == "status":
            clauses.append(_from_to("the status", names.status(ctx.kind, old), names.status(ctx.kind, new),
                                    none="none"))
        elif key == "priority":
            clauses.append(_from_to("the priority", _PRIORITIES.get(str(old), _value(old)),
                                    _PRIORITIES.get(str(new), _value(new))))
        elif key == "requester":
            clauses.append(_from_to("the requester", names.customer_email(old) if old else "nothing",
                                    names.customer_email(new) if new else "nothing"))
        elif key in ("organization", "project", "folder"):
            noun = "" if key == "organization" else f"the {key} "
            if old and new:
                clauses.append(format_html("moved it from {}{} to {}", noun, _value(old), _value(new)))
            elif new:
                clauses.append(format_html("moved it to {}{}", noun, _value(new)))
            else:
                clauses.append(format_html("took it out of {}{}", noun, _value(old)))
        elif key == "custom_fields":
            clauses += _custom_fields(old, new, ctx.kind, names)
        elif key == "description":
            clauses.append(mark_safe("edited the description"))
        elif key in ("assignees", "followers"):
            before, after = _refs(old), _refs(new)
            added = [names.ref(r) for r in after if r not in before]
            removed = [names.ref(r) for r in before if r not in after]
            if key == "assignees":
                if added:
                    clauses.append(format_html("assigned {} to {}", ctx.subject, _and(added)))
                if removed:
                    clauses.append(format_html("unassigned {}", _and(removed)))
            else:
                if added:
                    clauses.append(format_html("added {} as {}", _and(added),
                                               "a follower" if len(added) == 1 else "followers"))
                if removed:
                    clauses.append(format_html("removed {} from the followers", _and(removed)))
    return _clauses(ctx, clauses)


def _follower(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    added = event.action.endswith("follower_added")
    if "agent" in changes:
        email, name = changes["agent"], ctx.names.agent_email(changes["agent"])
    else:
        email, name = changes.get("customer"), ctx.names.customer_email(changes.get("customer"))
    if str(email).lower() == event.actor_label.lower():
        return format_html("{} {} following {}", ctx.actor, "started" if added else "stopped", ctx.subject)
    if added:
        return format_html("{} added {} as a follower", ctx.actor, name)
    return format_html("{} removed {} from the followers", ctx.actor, name)


def _task_created(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    return format_html("{} made the task {} {} from this ticket", ctx.actor, _value(changes.get("task")),
                       _quoted(changes.get("title")))


def _files(changes: dict[str, Any]) -> SafeString:
    files = [_value(name) for name in changes.get("attachments") or [] if name]
    return format_html(" with {}", _and(files)) if files else mark_safe("")


def _message(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    kind = event.action.rsplit(".", 1)[1]
    if kind == "customer":
        return format_html("{} wrote{}", ctx.actor, _files(changes))
    if kind == "note":
        return format_html("{} added an internal note{}", ctx.actor, _files(changes))
    to = [ctx.names.customer_email(address) for address in changes.get("to") or []]
    if not to:
        return format_html("{} replied{} (no customer to send it to)", ctx.actor, _files(changes))
    return format_html("{} replied to {}{}", ctx.actor, _and(to), _files(changes))


def _time(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    what = event.action.rsplit(".", 1)[1]
    agent = changes.get("agent")
    for_whom = "" if not agent or str(agent).lower() == event.actor_label.lower() else ctx.names.agent_email(agent)
    if what == "logged":
        billable = "" if changes.get("billable", True) else " (not billable)"
        return format_html("{} logged {} on {}{}{}", ctx.actor, _duration(changes.get("minutes")),
                           _day(changes.get("date")), format_html(" for {}", for_whom) if for_whom else "", billable)
    if what == "deleted":
        return format_html("{} removed {} logged{} on {}", ctx.actor, _duration(changes.get("minutes")),
                           format_html(" by {}", for_whom) if for_whom else "", _day(changes.get("date")))
    clauses = []
    for key, change in changes.items():
        old, new = _old_new(change)
        if key == "minutes":
            clauses.append(format_html("changed logged time from {} to {}", _duration(old), _duration(new)))
        elif key == "date":
            clauses.append(format_html("moved logged time from {} to {}", _day(old), _day(new)))
        elif key == "note":
            clauses.append(_from_to("a time entry's note", _value(old), _value(new)))
        elif key == "billable":
            clauses.append(format_html("marked logged time {}", "billable" if new else "not billable"))
    return _clauses(ctx, clauses, otherwise="changed logged time")


def _macro(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said:
    did = [_value(text) for text in changes.get("did") or []] or ["nothing to change"]
    return format_html("{} applied: {}", ctx.actor, mark_safe("; ".join(str(conditional_escape(d)) for d in did))), []  # noqa: S308


def _automation(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said:
    what = event.action.rsplit(".", 1)[1]
    if what == "ran":
        did = [_value(text) for text in changes.get("did") or []] or ["nothing to change"]
        matched = [_value(text) for text in changes.get("matched") or []]
        because = [format_html("Because {}", _and(matched))] if matched else []
        return format_html("{} ran: {}", ctx.actor, mark_safe("; ".join(str(conditional_escape(d)) for d in did))), because  # noqa: S308
    if what == "failed":
        details = [format_html("{}", _value(changes["disabled"]))] if changes.get("disabled") else []
        return format_html("{} failed: {}", ctx.actor, _value(changes.get("error"))), details
    if what == "stopped":
        return format_html("{} stopped: it would have run again on its own changes, so it ran once", ctx.actor), []
    return format_html("{} ran", ctx.actor), []


_TARGETS = {"first_response": "first response", "resolution": "resolution"}


def _sla(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said | SafeString:
    what, policy = event.action.rsplit(".", 1)[1], _value(changes.get("policy"))
    if what == "applied":
        due = [format_html("{} due {}", label, _moment(changes[key]))
               for key, label in (("first_response_due", "First response"), ("resolution_due", "resolution"))
               if changes.get(key)]
        return format_html("{} applied the SLA “{}”", ctx.actor, policy), ([_and(due)] if due else [])
    if what == "breached":
        target = _TARGETS.get(str(changes.get("target")), _value(changes.get("target")))
        return format_html("The {} target of the SLA “{}” was missed", target, policy)
    return format_html("The SLA “{}” is close to being missed", policy)


def _survey(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    if event.action.endswith("sent"):
        return format_html("{} sent a satisfaction survey to {}", ctx.actor, ctx.names.customer_email(changes.get("to")))
    comment = changes.get("comment")
    return format_html("{} rated {} {}{}", ctx.actor, ctx.subject, _value(changes.get("rating")).capitalize(),
                       format_html(": {}", _quoted(comment)) if comment else "")


def _customer_created(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said:
    organization = changes.get("organization")
    where = (format_html(" to {}", ctx.names.organization(organization)) if organization is not None
             else mark_safe(" with no organization"))
    sentence = format_html("{} added {}{}{}", ctx.actor, ctx.subject, _SOURCES.get(str(changes.get("source")), ""),
                           where)
    filed = changes.get("filed")
    return sentence, [format_html("Filed there because {}", _FILED[filed])] if filed in _FILED else []


_CUSTOMER_FIELDS = {"email": "the address", "name": "the name", "phone": "the phone number",
                    "language": "the language", "customer_type": "the customer type"}


def _person_updated(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    clauses = []
    for key, change in changes.items():
        old, new = _old_new(change)
        if key in _CUSTOMER_FIELDS:
            clauses.append(_from_to(_CUSTOMER_FIELDS[key], _value(old), _value(new)))
        elif key == "organization":
            clauses.append(format_html("moved {} from {} to {}", ctx.subject, ctx.names.organization(old),
                                       ctx.names.organization(new)))
        elif key == "notes":
            clauses.append(mark_safe("edited the notes"))
        elif key == "custom_fields":
            clauses += _custom_fields(old, new, ctx.kind, ctx.names)
    return _clauses(ctx, clauses)


def _customer_moved(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said:
    old, new = _old_new(changes.get("organization"))
    sentence = format_html("{} moved {} from {} to {}", ctx.actor, ctx.subject, ctx.names.organization(old),
                           ctx.names.organization(new))
    reason = changes.get("reason")
    return sentence, [format_html("Because the {}", _value(reason))] if reason and reason != "by hand" else []


def _customer_merged(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    if event.action.endswith("merged_into"):
        return format_html("{} merged {} into {}", ctx.actor, ctx.subject, ctx.names.customer(changes.get("into")))
    return format_html("{} merged {} into {}", ctx.actor, _value(changes.get("email")), ctx.subject)


def _portal(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    what = event.action.split(".", 1)[1]
    simple = {"registered": "registered on the portal",
              "register_known": "tried to register on the portal again (they have an account; a reminder went out)",
              "register_capped": "tried to register on the portal too often; no mail was sent",
              "password_set": "set a portal password",
              "invited": f"invited {ctx.subject} to the portal",
              "previewed": f"previewed the portal as {ctx.subject}"}
    if what in simple:
        return format_html("{} {}", ctx.actor, simple[what])
    if what == "verified":
        return format_html("{} confirmed their address on the portal", ctx.actor)
    purpose, _sep, outcome = what.partition("_link_")
    link = _LINKS.get(purpose, "a portal link")
    if outcome == "used":
        return format_html("{} used {}", ctx.actor, link)
    if outcome == "sent":
        return format_html("{} was sent {}", ctx.subject, link)
    if outcome == "capped":
        return format_html("{} asked for {} too often; none was sent", ctx.subject, link)
    return format_html("{} used the portal", ctx.actor)


def _domains(value: Any) -> SafeString:
    return _and([display_domain(str(domain)) for domain in value or [] if domain])


def _organization(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said | SafeString:
    what = event.action.split(".", 1)[1]
    domain = display_domain(str(changes.get("domain") or ""))
    if what == "created":
        if changes.get("triggered_by"):
            return (format_html("{} created {} for the domain {}", ctx.actor, ctx.subject, domain),
                    [format_html("The first mail came from {}", ctx.names.person(changes["triggered_by"]))])
        domains = changes.get("domains")
        return format_html("{} created {}{}", ctx.actor, ctx.subject,
                           format_html(" with the domain{} {}", "s" if len(domains) > 1 else "", _domains(domains))
                           if domains else "")
    if what == "domain_added":
        return format_html("{} added the domain {}", ctx.actor, domain)
    if what == "domain_removed":
        return format_html("{} removed the domain {}", ctx.actor, domain)
    if what == "domain_applied":
        moved = _int(changes.get("moved_customers")) or 0
        return format_html("{} moved {} customer{} of {} from No organization to {}", ctx.actor, moved,
                           "" if moved == 1 else "s", domain, ctx.subject)
    if what == "deleted":
        count = _int(changes.get("customers_unassigned")) or 0
        return format_html("{} deleted {}; {} customer{} went to No organization", ctx.actor, ctx.subject, count,
                           "" if count == 1 else "s")
    if what == "merged":
        counts = [f"{_int(changes.get(key)) or 0} {noun}" for key, noun in (("customers", "customers"),
                                                                            ("items", "tickets and tasks"))]
        domains = changes.get("domains")
        return (format_html("{} merged {} into {}", ctx.actor, _value(changes.get("name")), ctx.subject),
                [format_html("Brought {}{}", _and(counts),
                             format_html(" and the domains {}", _domains(domains)) if domains else "")])
    if what == "merged_into":
        return format_html("{} merged {} into {}", ctx.actor, ctx.subject, ctx.names.organization(changes.get("into")))
    if what == "updated":
        clauses = []
        for key, change in changes.items():
            old, new = _old_new(change)
            if key == "name":
                clauses.append(format_html("renamed it from {} to {}", _quoted(old), _quoted(new)))
            elif key == "notes":
                clauses.append(mark_safe("edited the notes"))
            elif key == "custom_fields":
                clauses += _custom_fields(old, new, "organization", ctx.names)
            elif key == "portal_visibility":
                rule = _PORTAL_RULES.get(str(new))
                clauses.append(format_html("let its customers see {} on the portal", rule) if rule else
                               mark_safe("set its portal visibility back to the help desk's rule"))
        return _clauses(ctx, clauses)
    return _neutral(event, changes, ctx)


def _project(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    what = event.action.split(".", 1)[1]
    if what == "created":
        where = [format_html(" in the portfolio {}", _value(changes["portfolio"])) if changes.get("portfolio") else "",
                 format_html(" for {}", _value(changes["organization"])) if changes.get("organization") else ""]
        return format_html("{} created {}{}{}", ctx.actor, ctx.subject, *where)
    if what == "deleted":
        return format_html("{} deleted {}", ctx.actor, ctx.subject)
    clauses = []
    for key, change in changes.items():
        old, new = _old_new(change)
        if key == "name":
            clauses.append(format_html("renamed it from {} to {}", _quoted(old), _quoted(new)))
        elif key == "portfolio":
            clauses.append(_from_to("the portfolio", ctx.names.portfolio(old) if old else "nothing",
                                    ctx.names.portfolio(new) if new else "nothing"))
        elif key == "organization":
            clauses.append(_from_to("the organization", ctx.names.organization(old) if old else "nothing",
                                    ctx.names.organization(new) if new else "nothing"))
    return _clauses(ctx, clauses)


def _neutral(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    """An action this module does not know (a newer version wrote it): who, and that it changed."""
    return format_html("{} changed {}", ctx.actor, ctx.subject)


SENTENCES: dict[str, Sentence] = {
    "created": _item_created, "updated": _item_updated, "follower_added": _follower, "follower_removed": _follower,
    "task_created": _task_created,
    "message.customer": _message, "message.reply": _message, "message.note": _message,
    "time.logged": _time, "time.updated": _time, "time.deleted": _time,
    "macro.applied": _macro,
    "automation.ran": _automation, "automation.failed": _automation, "automation.stopped": _automation,
    "sla.applied": _sla, "sla.breached": _sla, "sla.at_risk": _sla,
    "survey.sent": _survey, "survey.answered": _survey,
    "customer.created": _customer_created, "customer.updated": _person_updated, "customer.moved": _customer_moved,
    "customer.merged": _customer_merged, "customer.merged_into": _customer_merged,
    "customer.deleted": lambda event, changes, ctx: format_html("{} deleted {}", ctx.actor, ctx.subject),
    "project.created": _project, "project.updated": _project, "project.deleted": _project,
    "project.renamed": _project,
}


def _sentence_for(action: str) -> Sentence:
    if action in SENTENCES:
        return SENTENCES[action]
    if action.startswith("portal."):
        return _portal
    if action.startswith("organization."):
        return _organization
    return _neutral


def _action(event: AuditEvent) -> str:
    """Item actions are written as "ticket.updated" or "task.updated": the kind is the page's."""
    kind, _sep, rest = event.action.partition(".")
    return rest if event.object_type == "item" and kind in ("ticket", "task") else event.action


def _say(event: AuditEvent, names: Names, *, subject: str, kind: str) -> Line:
    changes = event.changes if isinstance(event.changes, dict) else {}
    ctx = Context(names=names, actor=actor_name(event, names), subject=subject, kind=kind)
    try:
        said = _sentence_for(_action(event))(event, changes, ctx)
    except (KeyError, TypeError, ValueError, AttributeError):  # a row of an older shape: say what is sure
        said = _neutral(event, changes, ctx)
    sentence, details = said if isinstance(said, tuple) else (said, [])
    text = str(sentence)
    return Line(event=event, sentence=mark_safe(text[:1].upper() + text[1:] + "."), details=details)  # noqa: S308


def readable(events: Iterable[AuditEvent], *, subject: str, kind: str, names: Names | None = None) -> list[Line]:
    """`events` as sentences about `subject` ("the ticket", a customer's name): a pass to learn the
    names they need, one query per kind of name (`names` may know some already), and a pass to
    write them."""
    rows = list(events)
    names = names or Names()
    subject = without_direction_controls(subject)
    for event in rows:
        _say(event, names, subject=subject, kind=kind)
    names.resolve()
    return [_say(event, names, subject=subject, kind=kind) for event in rows]


def item_history(events: Iterable[AuditEvent], *, kind: str, names: Names | None = None) -> list[Line]:
    return readable(events, subject=f"the {kind}", kind=kind, names=names)
