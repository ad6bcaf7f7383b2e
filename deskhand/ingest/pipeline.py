"""Raw mail → ticket, reply, or a record of why not. The one path for every transport.

Order of decisions (issue 6): duplicates, robots and loops, threading into an existing item,
otherwise a new ticket. Processing is idempotent: a mail that is not `received` is left alone,
and `retry` puts a failed one back. Each mail is written in its own savepoint, so one bad mail
never takes a batch down with it, and a failure leaves no half-written ticket behind.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from mailparser_reply import EmailReplyParser

from deskhand.agents.models import Agent
from deskhand.config.queries import get_settings
from deskhand.core.actors import Actor, ActorKind
from deskhand.core.bulk import insert_rows, update_rows
from deskhand.core.emailaddr import AddressError, parse_email
from deskhand.core.errors import DomainError
from deskhand.core.i18n import first_supported
from deskhand.customers.models import Customer, Source
from deskhand.customers.queries import People, lookup_keys, organization_for_domain, read_people
from deskhand.customers.services import Person, find_or_create_customers
from deskhand.mail.forwarding import Confirmation, came_through, forwarding_confirmation
from deskhand.mail.loops import robot_reason
from deskhand.mail.models import EarlyReply, ForwardedArrival, InboundEmail, InboundRaw, InboundStatus, Transport
from deskhand.mail.outbound import Acknowledgement, queue_acknowledgements, queue_rejection
from deskhand.mail.parsing import STREAM_ABOVE, ParsedMail, parse_mail, parse_mail_file
from deskhand.mail.queries import (
    MailAddresses,
    early_replies,
    items_by_message_id,
    mail_addresses,
    open_raw,
    spool_dir,
)
from deskhand.mail.services import keep_forwarding_confirmations, note_forwarded_arrival
from deskhand.work.models import Channel, Follower, Item, Kind, Message, MessageKind
from deskhand.work.services._common import automate
from deskhand.work.services.items import (
    MAX_DESCRIPTION,
    NewFollower,
    NewItem,
    add_followers,
    create_items,
    created_events,
)
from deskhand.work.services.messages import (
    MAX_BODY,
    NewAttachment,
    NewMessage,
    add_messages,
    check_attachments,
    fit_text,
)

log = logging.getLogger(__name__)

MAX_FOLLOWERS_FROM_MAIL = 50
# A reply that opened a ticket because its parent had not arrived waits this long for it, by the
# parent's Message-ID and the nearest few of the Message-IDs it names.
EARLY_REPLY_WAIT = timedelta(days=7)
EARLY_REPLY_IDS = 5
MAX_TITLE = 300
TOKEN = re.compile(r"\[#(\d{1,18})\]")
# Reply and forward prefixes in the languages of our users: Re, Aw (de), Sv (no, sv, da),
# Vs (fi), Antw (nl), Odp (pl, hr), Réf/Rép (fr), Rif (it), Fwd, Wg (de), Tr (fr), Rv (es).
PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|antw|antwort|odp|réf|ref|rép|rif|r|fw|fwd|wg|tr|rv|enc|odg|vá)\s*(?:\[\d+\])?\s*:\s*)+",
    re.IGNORECASE)
QUOTE_HINT = re.compile(
    r"(?m)^(?:>|-{2,}\s*(?:original|ursprüngliche|message d'origine|mensaje original|opprinnelig)|"
    r"(?:from|von|de|fra|od|från):\s.+@)|\bwrote:|\bschrieb\b|\ba écrit\b|\bescribió\b|\bskrev\b|\bnapisao\b",
    re.IGNORECASE)
QUOTE_LANGUAGES = ["en", "de", "fr", "es", "da", "sv", "nl", "it", "pl"]


@lru_cache(maxsize=1)
def _reply_parser() -> EmailReplyParser:
    return EmailReplyParser(languages=QUOTE_LANGUAGES)


def strip_quotes(text: str) -> str:
    """The new part of a mail: the quoted history and the "On …, X wrote:" line removed."""
    if not text or not QUOTE_HINT.search(text):
        return text
    try:
        reply = _reply_parser().parse_reply(text=text)
    except Exception:  # noqa: BLE001 - a quote stripper that fails keeps the whole text
        return text
    return (reply or "").strip() or text


def clean_subject(subject: str) -> str:
    """A title from a subject: reply and forward prefixes dropped, whitespace collapsed."""
    return " ".join(PREFIX.sub("", subject).split())


@dataclass
class Outcome:
    status: str
    reason: str = ""
    item: Item | None = None
    message: Message | None = None
    notify: list[tuple[str, str, str]] = field(default_factory=list)  # (to, subject, reason) rejections


class Rejected(Exception):
    """The mail cannot be filed; the reason is kept and, where it helps, told to the sender."""

    def __init__(self, reason: str, *, tell_sender: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tell_sender = tell_sender


def _sender(mail: ParsedMail, inbound: InboundEmail) -> tuple[str, str]:
    candidates = [mail.from_address, mail.sender]
    if inbound.envelope_from not in ("", "<>"):
        candidates.append(inbound.envelope_from)
    for candidate in candidates:
        try:
            return parse_email(candidate).address, mail.from_name
        except AddressError:
            continue
    raise Rejected("no sender: the mail has no usable From address")


def _mail_actor(address: str) -> Actor:
    return Actor(ActorKind.CUSTOMER, label=f"email from {address}"[:300])


def _attachments(mail: ParsedMail) -> list[NewAttachment]:
    return [NewAttachment(name=part.name, content=part.content, content_type=part.content_type, inline=part.inline,
                          content_id=part.content_id) for part in mail.attachments]


def _keys(values: Iterable[str]) -> set[str]:
    keys = set()
    for value in values:
        try:
            keys.add(parse_email(value).key)
        except AddressError:
            continue
    return keys


def _cc_wanted(mail: ParsedMail, inbound: InboundEmail, *, sender: str, addresses: MailAddresses
               ) -> tuple[dict[str, str], int]:
    """The others the mail went to, to become followers: {address key: display name}, and how
    many were left out over the cap. Never anyone on the never-follow list, and never the address
    the mail was delivered to (that is us, even before anyone made it a ticket address). The To
    line counts only when one of our ticket addresses is on it, so that we know which of its
    addresses is us."""
    to_keys = _keys(address for _, address in mail.to)
    ours = addresses.own | _keys([*inbound.envelope_to, *mail.delivered_to])
    if inbound.mailbox is not None:
        ours |= {inbound.mailbox.address.lower()}
    candidates = [*mail.to, *mail.cc] if to_keys & ours else list(mail.cc)
    wanted: dict[str, str] = {}  # address key → the display name the mail gives
    for name, address in candidates:
        for key in _keys([address]):
            if key != sender.lower() and key not in addresses.never_follow and key not in ours:
                wanted.setdefault(key, name[:200])
    keys = list(wanted)
    skipped = max(0, len(keys) - MAX_FOLLOWERS_FROM_MAIL)
    return {key: wanted[key] for key in keys[:MAX_FOLLOWERS_FROM_MAIL]}, skipped


@dataclass
class _Threads:
    """What the batch's mail answers, read for all of it at once: the item of each Message-ID it
    names (`items_by_message_id`), the tickets that replies to the batch's own mail opened
    because they arrived first (`early_replies`), and those items."""

    item_ids: dict[str, int]
    early: dict[str, list[int]]
    items: dict[int, Item]

    @classmethod
    def read(cls, mails: list[ParsedMail]) -> _Threads:
        item_ids = items_by_message_id(rfc_id for mail in mails for rfc_id in mail.thread_ids)
        early = early_replies([*(mail.message_id for mail in mails if mail.message_id),
                               *(rfc_id for mail in mails for rfc_id in mail.thread_ids[:EARLY_REPLY_IDS])],
                              since=timezone.now() - EARLY_REPLY_WAIT)
        wanted = {*item_ids.values(), *(pk for pks in early.values() for pk in pks)}
        items = Item.objects.select_related("requester").in_bulk(wanted) if wanted else {}
        return cls(item_ids, early, items)


def _early_reply_item(mail: ParsedMail, threads: _Threads) -> Item | None:
    """The ticket a reply to this mail opened before this mail arrived, when the reply's writer
    is someone this mail went to (so knew its Message-ID as a participant; a stranger's mail
    naming it opens nothing of anyone's)."""
    participants = _keys([mail.from_address, mail.sender, *(address for _, address in [*mail.to, *mail.cc])])
    for item_id in threads.early.get(mail.message_id, []):
        item = threads.items.get(item_id)
        if item is not None and item.requester is not None and item.requester.email.lower() in participants:
            return item
    return None


def _sibling_item(mail: ParsedMail, sender_key: str, addresses: MailAddresses, threads: _Threads) -> Item | None:
    """For a reply whose parent has not arrived: the ticket an earlier reply to the same parent
    opened, when this sender may write to it (as by the ticket token: its requester, a follower,
    a colleague, an agent), so that both replies wait in one ticket."""
    for rfc_id in mail.thread_ids[:EARLY_REPLY_IDS]:
        for item_id in threads.early.get(rfc_id, []):
            item = threads.items.get(item_id)
            if item is not None and _may_write_to(item, sender_key, addresses):
                return item
    return None


def _thread_item(mail: ParsedMail, sender_key: str, addresses: MailAddresses, threads: _Threads) -> Item | None:
    item_id = next((threads.item_ids[rfc_id] for rfc_id in mail.thread_ids if rfc_id in threads.item_ids), None)
    if item_id is not None and item_id in threads.items:
        return threads.items[item_id]
    match = TOKEN.search(mail.subject)
    if match is None:
        return None
    item = Item.objects.select_related("requester").filter(pk=int(match.group(1))).first()
    if item is None or not _may_write_to(item, sender_key, addresses):
        return None
    return item


def _may_write_to(item: Item, sender_key: str, addresses: MailAddresses) -> bool:
    """A subject token is easy to guess: only people of the ticket (its requester, its followers,
    the requester's organization, an agent) thread by it; anyone else starts a new ticket."""
    if item.requester is not None and item.requester.email.lower() == sender_key:
        return True
    if Follower.objects.filter(item=item, customer__email__iexact=sender_key).exists():
        return True
    if sender_key in addresses.agents:
        return True
    if item.organization_id is not None:
        # A colleague: filed in the organization, or writing from one of its domains.
        if Customer.objects.filter(email__iexact=sender_key, organization_id=item.organization_id).exists():
            return True
        organization = organization_for_domain(sender_key.rpartition("@")[2])
        return organization is not None and organization.pk == item.organization_id
    return False


def _texts(mail: ParsedMail, *, limit: int) -> tuple[str, str, str, list[NewAttachment]]:
    """(new text, full text, sanitized HTML, the whole text as an attachment when it did not fit),
    the new text within `limit`: the size the ticket's description or the message may have. A long
    mail (a pasted log) is filed with the limit's worth and a note, and nothing of it is lost."""
    # read_ahead strips the quotes of the first MAX_BODY characters only.
    stripped = mail.stripped if mail.stripped is not None else strip_quotes(mail.text[:MAX_BODY])
    overflowing = len(mail.text) > MAX_BODY or len(stripped) > limit or mail.full_text is not None
    # A streamed mail's huge text was read only in part; its whole text is in a file already
    # (rewound: a batch that failed and is filed again mail by mail reads it a second time).
    whole_text: str | IO[bytes] = mail.text
    if mail.full_text is not None:
        mail.full_text.seek(0)
        whole_text = mail.full_text
    body, whole = fit_text(stripped, limit=limit, whole=whole_text if overflowing else "")
    full, _ = fit_text(mail.text, limit=MAX_BODY)
    return body, full, mail.html, [whole] if whole is not None else []


@dataclass(eq=False)
class _Plan:
    """One mail of a batch: what it becomes (an `outcome` decided without writing), or what to
    write for it: a new ticket, or a message in `item` (or in the new ticket of `parent`)."""

    row: InboundEmail
    mail: ParsedMail | None
    live: bool
    outcome: Outcome | None = None
    confirmation: Confirmation | None = None
    sender: str = ""
    name: str = ""
    agent_id: int | None = None
    item: Item | None = None
    parent: _Plan | None = None
    wanted: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    body: str = ""
    full: str = ""
    html: str = ""
    attachments: list[NewAttachment] = field(default_factory=list)
    # Filled by the writes:
    created: bool = False
    author: Customer | None = None
    followers: list[Customer | Agent] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        return _mail_actor(self.sender)

    @property
    def creates(self) -> bool:
        """A new ticket: the mail answers nothing we know, in the database or in this batch."""
        return self.item is None and self.parent is None or self.created

    @property
    def is_note(self) -> bool:
        """Agents answer in the app; their mail into a ticket stays inside the team."""
        return self.agent_id is not None and not self.creates

    def target(self) -> Item | None:
        if self.item is not None or self.parent is None:
            return self.item
        return self.parent.target()


def _rejected(exc: DomainError) -> Rejected:
    return Rejected(exc.message, tell_sender=exc.code in ("attachment_too_large", "blocked_attachment_type",
                                                          "too_many_attachments"))


def _plan(row: InboundEmail, mail: ParsedMail, addresses: MailAddresses, *, live: bool,
          earlier: dict[tuple[int | None, str], int], threads: dict[str, _Plan], known: _Threads,
          settings: dict[str, Any], awaiting: dict[str, _Plan]) -> _Plan:
    """Decide a mail with reads only: duplicate, robot, no sender, an attachment refused, or what
    to file where. `earlier` maps (mailbox, Message-ID) to mail filed before (this batch's too);
    `threads` maps the Message-IDs of this batch's filed mail to their plans, `awaiting` the
    Message-IDs named by this batch's replies that open a ticket (their parent has not arrived)."""
    plan = _Plan(row=row, mail=mail, live=live)
    if mail.message_id:
        first = earlier.get((row.mailbox_id, mail.message_id))
        if first is not None and first != row.pk:
            plan.outcome = Outcome(InboundStatus.IGNORED, f"duplicate: the same Message-ID arrived as mail {first}")
            return plan
    envelope_from = row.envelope_from if row.transport == "smtp" else None
    # Gmail's or Microsoft's "confirm forwarding" mail: for the admin, never a ticket or a customer.
    plan.confirmation = forwarding_confirmation(mail, envelope_from=envelope_from)
    if plan.confirmation is not None:
        plan.outcome = Outcome(InboundStatus.IGNORED, f"forwarding confirmation from {plan.confirmation.provider_name}"
                               ": shown in Administration → Email")
        return plan
    robot = robot_reason(mail, envelope_from=envelope_from, own_addresses=addresses.own)
    if robot:
        plan.outcome = Outcome(InboundStatus.IGNORED, robot)
        return plan
    try:
        plan.sender, plan.name = _sender(mail, row)
        sender_key = plan.sender.lower()
        plan.agent_id = addresses.agents.get(sender_key)
        plan.parent = next((threads[rfc_id] for rfc_id in mail.thread_ids if rfc_id in threads), None)
        if plan.parent is None:
            plan.item = _thread_item(mail, sender_key, addresses, known)
        if plan.parent is None and plan.item is None:
            plan.item = _early_reply_item(mail, known)
            if plan.item is not None:
                plan.notes.append(f"filed into #{plan.item.pk}, which a reply to this mail opened before it arrived")
        if plan.parent is None and plan.item is None and mail.thread_ids:
            plan.parent = next((awaiting[rfc_id] for rfc_id in mail.thread_ids[:EARLY_REPLY_IDS]
                                if rfc_id in awaiting and awaiting[rfc_id].sender.lower() == sender_key), None)
            if plan.parent is None:
                plan.item = _sibling_item(mail, sender_key, addresses, known)
        replying = plan.item is not None or plan.parent is not None
        plan.body, plan.full, plan.html, whole = _texts(mail, limit=MAX_BODY if replying else MAX_DESCRIPTION)
        plan.attachments = [*_attachments(mail), *whole]
        check_attachments(plan.attachments, settings)
    except Rejected as exc:
        plan.outcome = Outcome(InboundStatus.FAILED, exc.reason[:2000])
        return plan
    except DomainError as exc:
        _refuse(plan, _rejected(exc))
        return plan
    plan.wanted, skipped = _cc_wanted(mail, row, sender=plan.sender, addresses=addresses)
    plan.notes += mail.problems
    if skipped:
        plan.notes.append(f"{skipped} more recipients were not added as followers")
    if mail.message_id:
        earlier[(row.mailbox_id, mail.message_id)] = row.pk
        threads[mail.message_id] = plan
    if plan.creates:  # a reply among them opens the ticket that its parent and siblings will join
        for rfc_id in mail.thread_ids[:EARLY_REPLY_IDS]:
            awaiting.setdefault(rfc_id, plan)
    return plan


def _refuse(plan: _Plan, exc: Rejected) -> None:
    """The mail cannot be filed: kept failed with the reason, and the sender told when it helps
    and the envelope vouches for the From address."""
    mail = plan.mail
    plan.outcome = Outcome(InboundStatus.FAILED, exc.reason[:2000])
    if not (exc.tell_sender and plan.live and mail is not None and mail.from_address):
        return
    withheld = backscatter_reason(plan.row, mail.from_address)
    if withheld:
        plan.outcome.reason = f"{exc.reason}; sender not told: {withheld}"[:2000]
        return
    plan.outcome.notify.append((mail.from_address, mail.subject, exc.reason))


def _write(plans: list[_Plan], addresses: MailAddresses, lookups: People) -> None:
    """File the planned mails of a batch, in the current transaction: the people they name, the
    new tickets, the messages, the followers and the acknowledgements, each in a few statements."""
    filing = [plan for plan in plans if plan.outcome is None]
    people: list[Person] = []
    for plan in filing:
        if not plan.is_note:
            people.append(Person(address=parse_email(plan.sender), source=Source.EMAIL, actor=plan.actor,
                                 name=plan.name, language=_mail_language(plan)))
        people += [Person(address=parse_email(key), source=Source.EMAIL, actor=plan.actor, name=name)
                   for key, name in plan.wanted.items() if key not in addresses.agents]
    found = iter(find_or_create_customers(people, lookups=lookups))
    agent_ids = {plan.agent_id for plan in filing if plan.agent_id} | {
        addresses.agents[key] for plan in filing for key in plan.wanted if key in addresses.agents}
    agents = Agent.objects.in_bulk(agent_ids) if agent_ids else {}
    for plan in filing:
        if not plan.is_note:
            plan.author = next(found)[0]
        plan.followers = [agents[addresses.agents[key]] if key in addresses.agents else next(found)[0]
                          for key in plan.wanted]
    _learn_languages(filing)
    new = [plan for plan in filing if plan.creates]
    batch = [NewItem(
        kind=Kind.TICKET, title=_title(plan), description=plan.body, requester=plan.author, actor=plan.actor,
        channel=Channel.EMAIL, follower_customers=[p for p in plan.followers if isinstance(p, Customer)],
        follower_agents=[p for p in plan.followers if isinstance(p, Agent)], mailbox=plan.row.mailbox)
        for plan in new]
    # The automations run once each ticket holds its first message (a rule's reply comes after it).
    created = create_items(batch, defer_automations=True)
    for plan, item in zip(new, created, strict=True):
        plan.item, plan.created = item, True
    insert_rows(EarlyReply, ("awaits", "item", "inbound", "created_at"), [
        (rfc_id, plan.item.pk, plan.row.pk, timezone.now())
        for plan in new if plan.item is not None and plan.mail is not None
        for rfc_id in plan.mail.thread_ids[:EARLY_REPLY_IDS]])
    messages = add_messages([NewMessage(
        item=_item_of(plan), kind=MessageKind.NOTE if plan.is_note else MessageKind.CUSTOMER,
        body=plan.body or "(no text)",
        actor=Actor.agent(agents[plan.agent_id]) if plan.is_note and plan.agent_id else plan.actor,
        body_html=plan.html, full_body=plan.full, attachments=plan.attachments,
        author_customer=plan.author, channel=Channel.EMAIL, opening=plan.created) for plan in filing])
    followers: list[NewFollower] = []
    for plan in filing:
        if plan.created:
            continue
        item = _item_of(plan)
        if plan.author is not None and plan.author.pk != item.requester_id:
            followers.append(NewFollower(item=item, actor=plan.actor, customer=plan.author))
        followers += [NewFollower(item=item, actor=plan.actor, customer=person if isinstance(person, Customer) else None,
                                  agent=person if isinstance(person, Agent) else None) for person in plan.followers]
    add_followers(followers)
    automate(created_events(created, batch))
    acknowledging: list[tuple[_Plan, Message]] = []
    for plan, message in zip(filing, messages, strict=True):
        notes = plan.notes
        if plan.created and plan.live:  # an import files old mail: nobody is waiting for an acknowledgement
            withheld = backscatter_reason(plan.row, plan.sender)
            if withheld:
                notes = [*notes, f"no acknowledgement: {withheld}"]
            else:
                acknowledging.append((plan, message))
        plan.outcome = Outcome(InboundStatus.PROCESSED, "; ".join(notes), item=_item_of(plan), message=message)
    queue_acknowledgements([Acknowledgement(
        item=_item_of(plan), message=message, to=plan.sender, answering=plan.mail.message_id if plan.mail else "",
        address=plan.row.mailbox.address if plan.row.mailbox else "") for plan, message in acknowledging])


def _mail_language(plan: _Plan) -> str:
    """The language the mail says it is written in (Content-Language), if we ship it."""
    return first_supported(plan.mail.language) if plan.mail is not None and plan.mail.language else ""


def _learn_languages(plans: list[_Plan]) -> None:
    """A sender without a language takes the one their mail says it is in (their first mail's,
    for a new customer); a language they have is never replaced. One UPDATE per language."""
    learnt: dict[int, str] = {}
    for plan in plans:
        if plan.author is not None and not plan.author.language and _mail_language(plan):
            learnt.setdefault(plan.author.pk, _mail_language(plan))
    for language in set(learnt.values()):
        Customer.objects.filter(pk__in=[pk for pk, code in learnt.items() if code == language],
                                language="").update(language=language)
    for plan in plans:
        if plan.author is not None and plan.author.pk in learnt:
            plan.author.language = learnt[plan.author.pk]


def _item_of(plan: _Plan) -> Item:
    item = plan.target()
    assert item is not None
    return item


def _title(plan: _Plan) -> str:
    assert plan.mail is not None
    return clean_subject(plan.mail.subject)[:MAX_TITLE] or (plan.body.split("\n", 1)[0][:80].strip() or "(no subject)")


def backscatter_reason(inbound: InboundEmail, to: str) -> str:
    """Why an automatic mail to `to` (the header From) must not be sent, or "": over SMTP, spam
    forges the From line of a stranger, and answering it mails that stranger (backscatter). The
    envelope sender is what the sending server vouches for; only when it is the same address do
    we answer. Transports without an envelope sender (IMAP, the HTTP endpoint) answer the From."""
    if inbound.transport != Transport.SMTP or inbound.envelope_from in ("", "<>"):
        return ""
    try:
        envelope = parse_email(inbound.envelope_from.strip("<>")).address
    except AddressError:
        return f"the envelope sender {inbound.envelope_from[:254]} is not an address"
    if envelope.lower() != to.strip().lower():
        return f"the envelope sender {envelope} is not the From address {to}"
    return ""


def _mailbox(inbound: InboundEmail, mail: ParsedMail, addresses: MailAddresses) -> None:
    if inbound.mailbox_id is None:
        mailbox = addresses.mailbox_for(
            [*inbound.envelope_to, *mail.delivered_to, *(a for _, a in mail.to), *(a for _, a in mail.cc)])
        if mailbox is not None:
            inbound.mailbox = mailbox


def process_one(inbound: InboundEmail, *, addresses: MailAddresses | None = None,
                parsed: ParsedMail | None = None) -> InboundEmail:
    """Decide and file one `received` mail: the batch of one. Never raises for anything the mail
    holds. Imported mail is filed without acknowledgements or rejection notices to its senders."""
    [done] = process_batch([inbound], [parsed], addresses=addresses)
    return done


def _set_mail_fields(row: InboundEmail, mail: ParsedMail, addresses: MailAddresses) -> None:
    row.rfc_message_id = mail.message_id[:255]
    row.from_address = mail.from_address[:254]
    row.subject = mail.subject[:500]
    _mailbox(row, mail, addresses)


_FINISHED = ["status", "reason", "item", "message", "processed_at", "attempts", "rfc_message_id", "from_address",
             "subject", "mailbox"]


def _outcome(inbound: InboundEmail, outcome: Outcome) -> InboundEmail:
    inbound.status = outcome.status
    inbound.reason = outcome.reason
    inbound.item = outcome.item
    inbound.message = outcome.message
    inbound.processed_at = timezone.now()
    return inbound


def _finish(inbound: InboundEmail, outcome: Outcome) -> InboundEmail:
    _outcome(inbound, outcome).save(update_fields=_FINISHED)
    return inbound


def claim(ids: Iterable[int]) -> list[InboundEmail]:
    """The `received` mails among `ids`, for this worker only (others skip rows it holds)."""
    rows = InboundEmail.objects.filter(pk__in=list(ids), status=InboundStatus.RECEIVED).order_by("id")
    if transaction.get_connection().features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return list(rows)


def parse_stored(inbound: InboundEmail) -> ParsedMail:
    """The stored mail, parsed; one larger than `STREAM_ABOVE` read from the database as a stream
    with its large parts spooled to the data directory. The caller closes it."""
    with open_raw(inbound.pk) as source:
        return parse_mail_file(source, size=inbound.size, spool_dir=spool_dir())


def _read_stored(inbound: InboundEmail, raw: bytes | None) -> ParsedMail | None:
    """`read_ahead` for a claimed row: from `raw` when the batch read it, else from the database."""
    return _read_ahead(lambda: parse_mail(raw) if raw is not None else parse_stored(inbound))


def read_ahead(raw: bytes) -> ParsedMail | None:
    """The pure part of processing one mail (parse, strip quotes), fit for a parser process."""
    return _read_ahead(lambda: parse_mail(raw))


def _read_ahead(parse: Callable[[], ParsedMail]) -> ParsedMail | None:
    try:
        mail = parse()
    except Exception:  # noqa: BLE001 - process_batch parses again and records the failure
        return None
    mail.stripped = strip_quotes(mail.text[:MAX_BODY])
    return mail


def named_addresses(parsed: Iterable[ParsedMail | None]) -> Iterator[str]:
    """Everyone a batch of mail names: the customers the pipeline will look up."""
    for mail in parsed:
        if mail is not None:
            yield from (mail.from_address, mail.sender, *(address for _, address in [*mail.to, *mail.cc]))


def _earlier(rows: list[InboundEmail], parsed: list[ParsedMail | None]) -> dict[tuple[int | None, str], int]:
    """(mailbox, Message-ID) → the first mail with that Message-ID that was processed or ignored,
    for the batch's Message-IDs, in one query that uses the Message-ID index alone (with the
    status in the query, SQLite would scan every processed mail of the mailbox instead)."""
    ids = {mail.message_id for mail in parsed if mail is not None and mail.message_id}
    batch = {row.pk for row in rows}
    earlier: dict[tuple[int | None, str], int] = {}
    for start in range(0, len(ids), 500):
        chunk = sorted(ids)[start:start + 500]
        for pk, mailbox_id, status, rfc_id in InboundEmail.objects.filter(rfc_message_id__in=chunk).order_by(
                "id").values_list("pk", "mailbox_id", "status", "rfc_message_id"):
            if pk not in batch and status in (InboundStatus.PROCESSED, InboundStatus.IGNORED):
                earlier.setdefault((mailbox_id, rfc_id), pk)
    return earlier


def process_batch(rows: list[InboundEmail], parsed: list[ParsedMail | None], *,
                  lookups: tuple[set[str], set[str]] | None = None,
                  addresses: MailAddresses | None = None) -> list[InboundEmail]:
    """File claimed mails in the current transaction, as one batch: decided with reads only,
    then written with set-based reads and bulk inserts (`_write`). When the writes fail, the
    batch is rolled back and each mail filed on its own, so that one bad mail is kept failed
    with the reason and never takes the others with it. `lookups` are the address keys and
    domains a parser process worked out."""
    addresses = addresses or mail_addresses()
    mails: list[ParsedMail | None] = []
    for row, mail in zip(rows, parsed, strict=True):
        row.attempts += 1
        if mail is None:
            try:
                mail = parse_stored(row)
            except Exception as exc:  # noqa: BLE001 - the parser is lenient; this is the last net
                log.exception("inbound %s: unparseable", row.pk)
                _finish(row, Outcome(InboundStatus.FAILED, f"unparseable: {type(exc).__name__}: {exc}"[:2000]))
        mails.append(mail)
    todo = [(row, mail) for row, mail in zip(rows, mails, strict=True) if mail is not None]
    try:
        _file_batch(todo, addresses, lookups=lookups)
    finally:
        for mail, given in zip(mails, parsed, strict=True):
            if mail is not None and given is None:
                mail.close()
    return rows


def _parents_first(todo: list[tuple[InboundEmail, ParsedMail]]) -> list[tuple[InboundEmail, ParsedMail]]:
    """The batch in its order, except that a mail comes after the mails of the batch it answers
    (a reply stored a moment before its parent still threads into the parent's ticket)."""
    index = {mail.message_id: n for n, (_, mail) in reversed(list(enumerate(todo))) if mail.message_id}
    if not any(rfc_id in index for _, mail in todo for rfc_id in mail.thread_ids):
        return todo
    ordered: list[tuple[InboundEmail, ParsedMail]] = []
    seen: set[int] = set()

    def visit(n: int) -> None:
        if n in seen:
            return
        seen.add(n)
        for rfc_id in todo[n][1].thread_ids:
            if rfc_id in index:
                visit(index[rfc_id])
        ordered.append(todo[n])

    for n in range(len(todo)):
        visit(n)
    return ordered


def _file_batch(todo: list[tuple[InboundEmail, ParsedMail]], addresses: MailAddresses, *,
                lookups: tuple[set[str], set[str]] | None) -> None:
    if not todo:
        return
    for row, mail in todo:
        _set_mail_fields(row, mail, addresses)
    todo = _parents_first(todo)
    earlier = _earlier([row for row, _ in todo], [mail for _, mail in todo])
    threads: dict[str, _Plan] = {}
    known = _Threads.read([mail for _, mail in todo])
    settings = get_settings()
    awaiting: dict[str, _Plan] = {}
    plans = [_plan(row, mail, addresses, live=row.transport != Transport.IMPORT, earlier=earlier, threads=threads,
                   known=known, settings=settings, awaiting=awaiting) for row, mail in todo]
    keys, domains = lookups or lookup_keys(named_addresses(mail for _, mail in todo))
    try:
        with transaction.atomic():
            _write(plans, addresses, read_people(keys, domains))
    except Exception as exc:  # noqa: BLE001 - isolated below: one mail at a time
        if len(todo) > 1:
            log.info("a batch of %s mails failed (%s); filing them one by one", len(todo), exc)
            for row, mail in todo:
                _file_batch([(row, mail)], addresses, lookups=None)
            return
        [plan] = plans
        if isinstance(exc, DomainError):
            _refuse(plan, _rejected(exc))
        else:
            log.exception("inbound %s: processing failed", plan.row.pk)
            plan.outcome = Outcome(InboundStatus.FAILED, f"processing error: {type(exc).__name__}: {exc}"[:2000])
    for plan in plans:
        assert plan.outcome is not None
        for to, subject, reason in plan.outcome.notify:
            with transaction.atomic():
                queue_rejection(to=to, subject=subject, reason=reason, answering=plan.mail.message_id if plan.mail else "",
                                address=plan.row.mailbox.address if plan.row.mailbox else "",
                                language=_mail_language(plan))
        _outcome(plan.row, plan.outcome)
    update_rows([plan.row for plan in plans], _FINISHED)
    _forwarding(plans, str(settings.get("forwarding_address") or ""))


def _forwarding(plans: list[_Plan], address: str) -> None:
    """Keep the forwarding confirmations of the batch, and note the first mail that came in
    through the address the help desk forwards from (one indexed read a batch until it came)."""
    confirmations = [(plan.row, plan.confirmation) for plan in plans if plan.confirmation is not None]
    if confirmations:
        keep_forwarding_confirmations(confirmations)
    if not address or ForwardedArrival.objects.filter(address=address.lower()).exists():
        return
    first = next((plan.row for plan in plans if plan.mail is not None and plan.confirmation is None
                  and came_through(plan.mail, address)), None)
    if first is not None:
        note_forwarded_arrival(address=address, inbound=first)


# A batch holds its mails' raw bytes and parsed trees at once: a few large mails go one by one,
# so three 90 MB mails never sit in memory together.
BATCH_BYTES = 8 * 1024 * 1024


def size_batches(sizes: Iterable[tuple[int, int]], *, budget: int = BATCH_BYTES) -> list[list[int]]:
    """(id, size) pairs in order → groups of ids whose sizes add up to at most `budget` (a mail
    larger than the budget is a group of its own)."""
    groups: list[list[int]] = []
    total = budget + 1
    for pk, size in sizes:
        if total + size > budget:
            groups.append([])
            total = 0
        groups[-1].append(pk)
        total += size
    return groups


def process_ids(ids: Iterable[int]) -> list[InboundEmail]:
    """Process the given mails, one transaction per group of at most `BATCH_BYTES` of mail (one
    savepoint each)."""
    wanted = list(ids)
    sizes = InboundEmail.objects.filter(pk__in=wanted).order_by("id").values_list("id", "size")
    done: list[InboundEmail] = []
    for group in size_batches(sizes):
        with transaction.atomic():
            rows = claim(group)
            if rows:
                small = [row.pk for row in rows if row.size <= STREAM_ABOVE]
                raws = dict(InboundRaw.objects.filter(pk__in=small).values_list("pk", "data")) if small else {}
                done += process_batch(rows, [_read_stored(row, bytes(raws[row.pk]) if row.pk in raws else None)
                                             for row in rows])
    return done


def forget_early_replies(*, limit: int = 500) -> int:
    """Delete the oldest `EarlyReply` rows that are past `EARLY_REPLY_WAIT` (a parent that has not
    come in a week is not waited for), at most `limit` per call, through the primary key: rows are
    written in time order, so the oldest ids are the oldest rows."""
    cutoff = timezone.now() - EARLY_REPLY_WAIT
    expired = [pk for pk, created_at in EarlyReply.objects.order_by("id").values_list("id", "created_at")[:limit]
               if created_at < cutoff]
    if expired:
        EarlyReply.objects.filter(pk__in=expired).delete()
    return len(expired)


def pending_ids(limit: int = 500) -> list[int]:
    return list(InboundEmail.objects.filter(status=InboundStatus.RECEIVED).order_by("id")
                .values_list("id", flat=True)[:limit])
