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
from django.utils.translation import gettext, gettext_noop, ngettext

from deskhand.agents.models import Agent, Team
from deskhand.audit.models import AuditEvent
from deskhand.core.bidi import without_direction_controls
from deskhand.core.emailaddr import display_domain
from deskhand.customers.models import Customer, Organization, Source
from deskhand.fields.models import CustomField
from deskhand.work.models import Channel, Portfolio, Priority, Status

DELETED = {"agent": gettext_noop("a deleted agent"), "team": gettext_noop("a deleted team"), "customer": gettext_noop("a deleted customer"),
           "organization": gettext_noop("a deleted organization"), "portfolio": gettext_noop("a deleted portfolio")}
NO_ORGANIZATION = gettext_noop("No organization")
_RULE_LABEL = re.compile(r"^Automation “(?P<name>.*)” \(#\d+\)$")
_CHANNELS: dict[str, str] = {Channel.EMAIL: gettext_noop(" by email"), Channel.PORTAL: gettext_noop(" on the portal"), Channel.API: gettext_noop(" through the API"),
             Channel.FORM: gettext_noop(" through a web form"), Channel.CHAT: gettext_noop(" in a chat")}
_SOURCES: dict[str, str] = {Source.AGENT: "", Source.API: gettext_noop(" through the API"), Source.CSV: gettext_noop(" from a CSV import"),
            Source.CLI: gettext_noop(" on the command line"), Source.EMAIL: gettext_noop(" from an email"), Source.PORTAL: gettext_noop(" on the portal"),
            Source.FORM: gettext_noop(" from a web form"), Source.CHAT: gettext_noop(" from a chat"), Source.AUTO: ""}
_FILED = {"owned domain": gettext_noop("its domain belongs to the organization"),
          "auto-created organization": gettext_noop("a new organization was made for its domain"),
          "free-mail domain": gettext_noop("a free-mail address belongs to no organization"),
          "no owner and auto-create is off": gettext_noop("no organization owns its domain"),
          "public suffix": gettext_noop("its domain is a public suffix"), "chosen by hand": gettext_noop("chosen by hand")}
_PORTAL_RULES = {"requested": gettext_noop("only the requests they asked for"),
                 "requested_or_following": gettext_noop("the requests they asked for or follow"),
                 "organization": gettext_noop("every request of their organization")}
_LINKS = {"verify": gettext_noop("the verification link"), "sign_in": gettext_noop("a sign-in link"), "reset": gettext_noop("a password reset link"),
          "invite": gettext_noop("the invitation link")}
_PRIORITIES = {priority.key: str(priority.label) for priority in Priority}
def _t(text: str) -> str:
    """A text marked with gettext_noop, in the active language ("" stays "": gettext("") is the header)."""
    return gettext(text) if text else ""


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
        return self._get("agent", pk, gettext(DELETED["agent"])) if _int(pk) else gettext(DELETED["agent"])

    def team(self, pk: Any) -> str:
        return self._get("team", pk, gettext(DELETED["team"])) if _int(pk) else gettext(DELETED["team"])

    def customer(self, pk: Any) -> str:
        return self._get("customer", pk, gettext(DELETED["customer"])) if _int(pk) else gettext(DELETED["customer"])

    def organization(self, pk: Any) -> str:
        if pk is None:
            return gettext(NO_ORGANIZATION)
        return self._get("organization", pk, gettext(DELETED["organization"])) if _int(pk) else gettext(DELETED["organization"])

    def portfolio(self, pk: Any) -> str:
        return self._get("portfolio", pk, gettext(DELETED["portfolio"])) if _int(pk) else gettext(DELETED["portfolio"])

    def customer_email(self, email: Any) -> str:
        """A customer named by address: their name when they have one, else the address."""
        text = str(email or "")
        if not text:
            return gettext(DELETED["customer"])
        if not self.ready:  # the address as written and as stored may differ in case
            self.wanted["customer_email"].update({text, text.lower()})
            return ""
        return self.found.get(("customer_email", text.lower()), text)

    def agent_email(self, email: Any) -> str:
        text = str(email or "")
        if not text:
            return gettext(DELETED["agent"])
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
        return gettext("someone")

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
        more = len(escaped) - MAX_NAMES
        escaped = [*escaped[:MAX_NAMES], ngettext("%(count)s more", "%(count)s more", more) % {"count": more}]
    if len(escaped) <= 1:
        return mark_safe("".join(escaped))  # noqa: S308 - escaped just above
    return mark_safe(gettext("%(list)s and %(last)s") % {"list": ", ".join(escaped[:-1]), "last": escaped[-1]})  # noqa: S308 - escaped just above


def _value(value: Any) -> str:
    """A stored value as short text: lists joined, booleans as yes/no, long text cut."""
    if value is None or value == "" or value == []:
        return gettext("nothing")
    if value is True or value is False:
        return gettext("yes") if value else gettext("no")
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


def _from_to(what: str, old: str, new: str, *, none: str = "") -> SafeString:
    """"changed the name from “A” to “B”", or "set …" when it was empty, or "cleared …"."""
    none = none or gettext("nothing")
    if old in ("", none) and new not in ("", none):
        return format_html(gettext("set {} to {}"), what, new)
    if new in ("", none):
        return format_html(gettext("cleared {} (was {})"), what, old)
    return format_html(gettext("changed {} from {} to {}"), what, old, new)


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
        name = gettext("%(name)s (through the API)") % {"name": name} if kind == "token" and name else name
        # A macro's changes are the agent's, "ana@… via macro “Refund”" (replies.services.via_macro).
        _, via, macro = label.partition(" via macro ")
        return gettext("%(name)s via macro %(macro)s") % {"name": name, "macro": without_direction_controls(macro)} if via \
            else name
    if kind == "rule":
        matched = _RULE_LABEL.match(label)
        return gettext("Rule “%(name)s”") % {"name": without_direction_controls(matched.group("name") if matched else label)}
    if kind == "customer":
        return names.customer_email(label)
    if kind == "system":
        return "Deskhand"
    return without_direction_controls(label) or gettext("Someone")


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
        return format_html("{} {}", ctx.actor, otherwise or gettext("changed %(subject)s") % {"subject": ctx.subject})
    return format_html("{} {}", ctx.actor, mark_safe("; ".join(str(part) for part in parts)))  # noqa: S308 - safe parts


def _item_created(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    requester = changes.get("requester")
    for_whom = format_html(gettext(" for {}"), ctx.names.customer_email(requester)) if (
        requester and str(requester).lower() != event.actor_label.lower()) else ""
    assignees = _refs(changes.get("assignees"))
    assigned = format_html(gettext(" and assigned it to {}"), _and([ctx.names.ref(r) for r in assignees])) if assignees else ""
    return format_html(gettext("{} created {}{}{}{}"), ctx.actor, ctx.subject, _t(_CHANNELS.get(str(changes.get("channel")), "")),
                       for_whom, assigned)


def _item_updated(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    names, clauses = ctx.names, []
    for key, change in changes.items():
        old, new = _old_new(change)
        if key == "title":
            clauses.append(format_html(gettext("renamed it from {} to {}"), _quoted(old), _quoted(new)))
        elif key == "status":
            clauses.append(_from_to(gettext("the status"), names.status(ctx.kind, old), names.status(ctx.kind, new),
                                    none="none"))
        elif key == "priority":
            clauses.append(_from_to(gettext("the priority"), _PRIORITIES.get(str(old), _value(old)),
                                    _PRIORITIES.get(str(new), _value(new))))
        elif key == "requester":
            clauses.append(_from_to(gettext("the requester"), names.customer_email(old) if old else gettext("nothing"),
                                    names.customer_email(new) if new else gettext("nothing")))
        elif key in ("organization", "project", "folder"):
            noun = "" if key == "organization" else (gettext("the project") if key == "project" else gettext("the folder")) + " "
            if old and new:
                clauses.append(format_html(gettext("moved it from {}{} to {}"), noun, _value(old), _value(new)))
            elif new:
                clauses.append(format_html(gettext("moved it to {}{}"), noun, _value(new)))
            else:
                clauses.append(format_html(gettext("took it out of {}{}"), noun, _value(old)))
        elif key == "custom_fields":
            clauses += _custom_fields(old, new, ctx.kind, names)
        elif key == "description":
            clauses.append(conditional_escape(gettext("edited the description")))
        elif key in ("assignees", "followers"):
            before, after = _refs(old), _refs(new)
            added = [names.ref(r) for r in after if r not in before]
            removed = [names.ref(r) for r in before if r not in after]
            if key == "assignees":
                if added:
                    clauses.append(format_html(gettext("assigned {} to {}"), ctx.subject, _and(added)))
                if removed:
                    clauses.append(format_html(gettext("unassigned {}"), _and(removed)))
            else:
                if added:
                    clauses.append(format_html(ngettext("added {} as a follower", "added {} as followers", len(added)),
                                               _and(added)))
                if removed:
                    clauses.append(format_html(gettext("removed {} from the followers"), _and(removed)))
    return _clauses(ctx, clauses)


def _follower(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    added = event.action.endswith("follower_added")
    if "agent" in changes:
        email, name = changes["agent"], ctx.names.agent_email(changes["agent"])
    else:
        email, name = changes.get("customer"), ctx.names.customer_email(changes.get("customer"))
    if str(email).lower() == event.actor_label.lower():
        return format_html(gettext("{} started following {}") if added else gettext("{} stopped following {}"), ctx.actor,
                           ctx.subject)
    if added:
        return format_html(gettext("{} added {} as a follower"), ctx.actor, name)
    return format_html(gettext("{} removed {} from the followers"), ctx.actor, name)


def _task_created(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    return format_html(gettext("{} made the task {} {} from this ticket"), ctx.actor, _value(changes.get("task")),
                       _quoted(changes.get("title")))


def _files(changes: dict[str, Any]) -> SafeString:
    files = [_value(name) for name in changes.get("attachments") or [] if name]
    return format_html(gettext(" with {}"), _and(files)) if files else mark_safe("")


def _message(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    kind = event.action.rsplit(".", 1)[1]
    if kind == "customer":
        return format_html(gettext("{} wrote{}"), ctx.actor, _files(changes))
    if kind == "note":
        return format_html(gettext("{} added an internal note{}"), ctx.actor, _files(changes))
    to = [ctx.names.customer_email(address) for address in changes.get("to") or []]
    if not to:
        return format_html(gettext("{} replied{} (no customer to send it to)"), ctx.actor, _files(changes))
    return format_html(gettext("{} replied to {}{}"), ctx.actor, _and(to), _files(changes))


def _time(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    what = event.action.rsplit(".", 1)[1]
    agent = changes.get("agent")
    for_whom = "" if not agent or str(agent).lower() == event.actor_label.lower() else ctx.names.agent_email(agent)
    if what == "logged":
        billable = "" if changes.get("billable", True) else " " + gettext("(not billable)")
        return format_html(gettext("{} logged {} on {}{}{}"), ctx.actor, _duration(changes.get("minutes")),
                           _day(changes.get("date")), format_html(gettext(" for {}"), for_whom) if for_whom else "", billable)
    if what == "deleted":
        return format_html(gettext("{} removed {} logged{} on {}"), ctx.actor, _duration(changes.get("minutes")),
                           format_html(gettext(" by {}"), for_whom) if for_whom else "", _day(changes.get("date")))
    clauses = []
    for key, change in changes.items():
        old, new = _old_new(change)
        if key == "minutes":
            clauses.append(format_html(gettext("changed logged time from {} to {}"), _duration(old), _duration(new)))
        elif key == "date":
            clauses.append(format_html(gettext("moved logged time from {} to {}"), _day(old), _day(new)))
        elif key == "note":
            clauses.append(_from_to(gettext("a time entry's note"), _value(old), _value(new)))
        elif key == "billable":
            clauses.append(conditional_escape(gettext("marked logged time billable") if new
                                              else gettext("marked logged time not billable")))
    return _clauses(ctx, clauses, otherwise="changed logged time")


def _macro(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said:
    did = [_value(text) for text in changes.get("did") or []] or [gettext("nothing to change")]
    return format_html(gettext("{} applied: {}"), ctx.actor, mark_safe("; ".join(str(conditional_escape(d)) for d in did))), []  # noqa: S308


def _automation(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said:
    what = event.action.rsplit(".", 1)[1]
    if what == "ran":
        did = [_value(text) for text in changes.get("did") or []] or [gettext("nothing to change")]
        matched = [_value(text) for text in changes.get("matched") or []]
        because = [format_html(gettext("Because {}"), _and(matched))] if matched else []
        return format_html(gettext("{} ran: {}"), ctx.actor, mark_safe("; ".join(str(conditional_escape(d)) for d in did))), because  # noqa: S308
    if what == "failed":
        details = [format_html("{}", _value(changes["disabled"]))] if changes.get("disabled") else []
        return format_html(gettext("{} failed: {}"), ctx.actor, _value(changes.get("error"))), details
    if what == "stopped":
        return format_html(gettext("{} stopped: it would have run again on its own changes, so it ran once"), ctx.actor), []
    return format_html(gettext("{} ran"), ctx.actor), []


_TARGETS = {"first_response": gettext_noop("first response"), "resolution": gettext_noop("resolution")}


def _sla(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said | SafeString:
    what, policy = event.action.rsplit(".", 1)[1], _value(changes.get("policy"))
    if what == "applied":
        due = [format_html(gettext("{} due {}"), label, _moment(changes[key]))
               for key, label in (("first_response_due", gettext("First response")), ("resolution_due", gettext("resolution")))
               if changes.get(key)]
        return format_html(gettext("{} applied the SLA “{}”"), ctx.actor, policy), ([_and(due)] if due else [])
    if what == "breached":
        target = _t(_TARGETS.get(str(changes.get("target")), "")) or _value(changes.get("target"))
        return format_html(gettext("The {} target of the SLA “{}” was missed"), target, policy)
    return format_html(gettext("The SLA “{}” is close to being missed"), policy)


def _survey(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    if event.action.endswith("sent"):
        return format_html(gettext("{} sent a satisfaction survey to {}"), ctx.actor, ctx.names.customer_email(changes.get("to")))
    comment = changes.get("comment")
    return format_html(gettext("{} rated {} {}{}"), ctx.actor, ctx.subject, _value(changes.get("rating")).capitalize(),
                       format_html(": {}", _quoted(comment)) if comment else "")


def _customer_created(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said:
    organization = changes.get("organization")
    where = (format_html(gettext(" to {}"), ctx.names.organization(organization)) if organization is not None
             else conditional_escape(gettext(" with no organization")))
    sentence = format_html(gettext("{} added {}{}{}"), ctx.actor, ctx.subject, _t(_SOURCES.get(str(changes.get("source")), "")),
                           where)
    filed = changes.get("filed")
    return sentence, [format_html(gettext("Filed there because {}"), gettext(_FILED[filed]))] if filed in _FILED else []


_CUSTOMER_FIELDS = {"email": gettext_noop("the address"), "name": gettext_noop("the name"), "phone": gettext_noop("the phone number"),
                    "language": gettext_noop("the language"), "customer_type": gettext_noop("the customer type")}


def _person_updated(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    clauses = []
    for key, change in changes.items():
        old, new = _old_new(change)
        if key in _CUSTOMER_FIELDS:
            clauses.append(_from_to(gettext(_CUSTOMER_FIELDS[key]), _value(old), _value(new)))
        elif key == "organization":
            clauses.append(format_html(gettext("moved {} from {} to {}"), ctx.subject, ctx.names.organization(old),
                                       ctx.names.organization(new)))
        elif key == "notes":
            clauses.append(conditional_escape(gettext("edited the notes")))
        elif key == "custom_fields":
            clauses += _custom_fields(old, new, ctx.kind, ctx.names)
    return _clauses(ctx, clauses)


def _customer_moved(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said:
    old, new = _old_new(changes.get("organization"))
    sentence = format_html(gettext("{} moved {} from {} to {}"), ctx.actor, ctx.subject, ctx.names.organization(old),
                           ctx.names.organization(new))
    reason = changes.get("reason")
    return sentence, [format_html(gettext("Because the {}"), _value(reason))] if reason and reason != "by hand" else []


def _customer_merged(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    if event.action.endswith("merged_into"):
        return format_html(gettext("{} merged {} into {}"), ctx.actor, ctx.subject, ctx.names.customer(changes.get("into")))
    return format_html(gettext("{} merged {} into {}"), ctx.actor, _value(changes.get("email")), ctx.subject)


def _portal(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    what = event.action.split(".", 1)[1]
    simple = {"registered": gettext("registered on the portal"),
              "register_known": gettext("tried to register on the portal again (they have an account; a reminder "
                                        "went out)"),
              "register_capped": gettext("tried to register on the portal too often; no mail was sent"),
              "password_set": gettext("set a portal password"),
              "invited": format_html(gettext("invited {} to the portal"), ctx.subject),
              "previewed": format_html(gettext("previewed the portal as {}"), ctx.subject)}
    if what in simple:
        return format_html("{} {}", ctx.actor, simple[what])
    if what == "verified":
        return format_html(gettext("{} confirmed their address on the portal"), ctx.actor)
    purpose, _sep, outcome = what.partition("_link_")
    link = gettext(_LINKS.get(purpose, gettext_noop("a portal link")))
    if outcome == "used":
        return format_html(gettext("{} used {}"), ctx.actor, link)
    if outcome == "sent":
        return format_html(gettext("{} was sent {}"), ctx.subject, link)
    if outcome == "capped":
        return format_html(gettext("{} asked for {} too often; none was sent"), ctx.subject, link)
    return format_html(gettext("{} used the portal"), ctx.actor)


def _domains(value: Any) -> SafeString:
    return _and([display_domain(str(domain)) for domain in value or [] if domain])


def _organization(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> Said | SafeString:
    what = event.action.split(".", 1)[1]
    domain = display_domain(str(changes.get("domain") or ""))
    if what == "created":
        if changes.get("triggered_by"):
            return (format_html(gettext("{} created {} for the domain {}"), ctx.actor, ctx.subject, domain),
                    [format_html(gettext("The first mail came from {}"), ctx.names.person(changes["triggered_by"]))])
        domains = changes.get("domains")
        return format_html(gettext("{} created {}{}"), ctx.actor, ctx.subject,
                           format_html(ngettext(" with the domain {}", " with the domains {}", len(domains)), _domains(domains))
                           if domains else "")
    if what == "domain_added":
        return format_html(gettext("{} added the domain {}"), ctx.actor, domain)
    if what == "domain_removed":
        return format_html(gettext("{} removed the domain {}"), ctx.actor, domain)
    if what == "domain_applied":
        moved = _int(changes.get("moved_customers")) or 0
        return format_html(ngettext("{} moved {} customer of {} from No organization to {}",
                                    "{} moved {} customers of {} from No organization to {}", moved),
                           ctx.actor, moved, domain, ctx.subject)
    if what == "deleted":
        count = _int(changes.get("customers_unassigned")) or 0
        return format_html(ngettext("{} deleted {}; {} customer went to No organization",
                                    "{} deleted {}; {} customers went to No organization", count),
                           ctx.actor, ctx.subject, count)
    if what == "merged":
        counts = [gettext("%(count)s customers") % {"count": _int(changes.get("customers")) or 0},
                  gettext("%(count)s tickets and tasks") % {"count": _int(changes.get("items")) or 0}]
        domains = changes.get("domains")
        return (format_html(gettext("{} merged {} into {}"), ctx.actor, _value(changes.get("name")), ctx.subject),
                [format_html(gettext("Brought {}{}"), _and(counts),
                             format_html(gettext(" and the domains {}"), _domains(domains)) if domains else "")])
    if what == "merged_into":
        return format_html(gettext("{} merged {} into {}"), ctx.actor, ctx.subject, ctx.names.organization(changes.get("into")))
    if what == "updated":
        clauses = []
        for key, change in changes.items():
            old, new = _old_new(change)
            if key == "name":
                clauses.append(format_html(gettext("renamed it from {} to {}"), _quoted(old), _quoted(new)))
            elif key == "notes":
                clauses.append(conditional_escape(gettext("edited the notes")))
            elif key == "custom_fields":
                clauses += _custom_fields(old, new, "organization", ctx.names)
            elif key == "portal_visibility":
                rule = _PORTAL_RULES.get(str(new))
                clauses.append(format_html(gettext("let its customers see {} on the portal"), gettext(rule)) if rule else
                               conditional_escape(gettext("set its portal visibility back to the help desk's rule")))
        return _clauses(ctx, clauses)
    return _neutral(event, changes, ctx)


def _project(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    what = event.action.split(".", 1)[1]
    if what == "created":
        where = [format_html(gettext(" in the portfolio {}"), _value(changes["portfolio"])) if changes.get("portfolio") else "",
                 format_html(gettext(" for {}"), _value(changes["organization"])) if changes.get("organization") else ""]
        return format_html(gettext("{} created {}{}{}"), ctx.actor, ctx.subject, *where)
    if what == "deleted":
        return format_html(gettext("{} deleted {}"), ctx.actor, ctx.subject)
    clauses = []
    for key, change in changes.items():
        old, new = _old_new(change)
        if key == "name":
            clauses.append(format_html(gettext("renamed it from {} to {}"), _quoted(old), _quoted(new)))
        elif key == "portfolio":
            clauses.append(_from_to(gettext("the portfolio"), ctx.names.portfolio(old) if old else gettext("nothing"),
                                    ctx.names.portfolio(new) if new else gettext("nothing")))
        elif key == "organization":
            clauses.append(_from_to(gettext("the organization"), ctx.names.organization(old) if old else gettext("nothing"),
                                    ctx.names.organization(new) if new else gettext("nothing")))
    return _clauses(ctx, clauses)


def _neutral(event: AuditEvent, changes: dict[str, Any], ctx: Context) -> SafeString:
    """An action this module does not know (a newer version wrote it): who, and that it changed."""
    return format_html(gettext("{} changed {}"), ctx.actor, ctx.subject)


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
    "customer.deleted": lambda event, changes, ctx: format_html(gettext("{} deleted {}"), ctx.actor, ctx.subject),
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
    subject = {"ticket": gettext("the ticket"), "task": gettext("the task")}.get(kind) or f"the {kind}"
    return readable(events, subject=subject, kind=kind, names=names)
