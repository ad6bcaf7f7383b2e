"""Raw mail → ticket, reply, or a record of why not. The one path for every transport.

Order of decisions (issue 6): duplicates, robots and loops, threading into an existing item,
otherwise a new ticket. Processing is idempotent: a mail that is not `received` is left alone,
and `retry` puts a failed one back. Each mail is written in its own savepoint, so one bad mail
never takes a batch down with it, and a failure leaves no half-written ticket behind.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import transaction
from django.utils import timezone
from mailparser_reply import EmailReplyParser

from deskhand.agents.models import Agent
from deskhand.config.queries import batch_cache, forget_batch
from deskhand.core.actors import Actor, ActorKind
from deskhand.core.emailaddr import AddressError, parse_email
from deskhand.core.errors import DomainError
from deskhand.customers.models import Customer, Source
from deskhand.customers.queries import lookup_keys, organization_for_domain, prefetch_customers
from deskhand.customers.services import find_or_create_customer
from deskhand.mail.loops import robot_reason
from deskhand.mail.models import InboundEmail, InboundRaw, InboundStatus, Transport
from deskhand.mail.outbound import queue_acknowledgement, queue_rejection
from deskhand.mail.parsing import STREAM_ABOVE, ParsedMail, parse_mail, parse_mail_file
from deskhand.mail.queries import MailAddresses, item_for_thread, mail_addresses, open_raw, spool_dir
from deskhand.work.models import Channel, Follower, Item, Message, MessageKind
from deskhand.work.services.items import MAX_DESCRIPTION, add_follower, submit_ticket
from deskhand.work.services.messages import MAX_BODY, NewAttachment, add_message, fit_text

log = logging.getLogger(__name__)

MAX_FOLLOWERS_FROM_MAIL = 50
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


def _cc_people(mail: ParsedMail, inbound: InboundEmail, *, sender: str, addresses: MailAddresses, actor: Actor
               ) -> tuple[list[Customer], list[Agent], int]:
    """The others the mail went to, as followers: agents by their address, the rest as
    customers. Never anyone on the never-follow list, and never the address the mail was
    delivered to (that is us, even before anyone made it a ticket address). The To line counts
    only when one of our ticket addresses is on it, so that we know which of its addresses is us.
    Returns how many were left out over the cap."""
    to_keys = _keys(address for _, address in mail.to)
    ours = addresses.own | _keys([*inbound.envelope_to, *mail.delivered_to])
    if inbound.mailbox is not None:
        ours |= {inbound.mailbox.address.lower()}
    candidates = [*mail.to, *mail.cc] if to_keys & ours else list(mail.cc)
    wanted: dict[str, str] = {}  # address key → the display name the mail gives
    for name, address in candidates:
        for key in _keys([address]):
            if key != sender.lower() and key not in addresses.never_follow and key not in ours:
                wanted.setdefault(key, name)
    keys = list(wanted)
    skipped = max(0, len(keys) - MAX_FOLLOWERS_FROM_MAIL)
    keys = keys[:MAX_FOLLOWERS_FROM_MAIL]
    agent_ids = [addresses.agents[key] for key in keys if key in addresses.agents]
    agents = {agent.email.lower(): agent for agent in Agent.objects.filter(pk__in=agent_ids)} if agent_ids else {}
    customers = []
    for key in keys:
        if key in agents:
            continue
        try:
            customer, _ = find_or_create_customer(key, name=wanted[key][:200], source=Source.EMAIL, actor=actor)
        except DomainError:
            continue
        customers.append(customer)
    return customers, list(agents.values()), skipped


def _thread_item(mail: ParsedMail, sender_key: str, addresses: MailAddresses) -> Item | None:
    item_id = item_for_thread(mail.thread_ids)
    if item_id is not None:
        return Item.objects.select_related("requester").filter(pk=item_id).first()
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
    # A streamed mail's huge text was read only in part; its whole text is in a file already.
    whole_text = mail.full_text if mail.full_text is not None else mail.text
    body, whole = fit_text(stripped, limit=limit, whole=whole_text if overflowing else "")
    full, _ = fit_text(mail.text, limit=MAX_BODY)
    return body, full, mail.html, [whole] if whole is not None else []


def _decide(inbound: InboundEmail, mail: ParsedMail, addresses: MailAddresses, *, live: bool) -> Outcome:
    if mail.message_id:
        # Read by the Message-ID index alone: with the status in the query, SQLite would scan
        # every processed mail of the mailbox instead.
        earlier = next((pk for pk, mailbox_id, status in InboundEmail.objects.filter(
            rfc_message_id=mail.message_id).values_list("pk", "mailbox_id", "status")
            if pk != inbound.pk and mailbox_id == inbound.mailbox_id
            and status in (InboundStatus.PROCESSED, InboundStatus.IGNORED)), None)
        if earlier is not None:
            return Outcome(InboundStatus.IGNORED, f"duplicate: the same Message-ID arrived as mail {earlier}")
    envelope_from = inbound.envelope_from if inbound.transport == "smtp" else None
    robot = robot_reason(mail, envelope_from=envelope_from, own_addresses=addresses.own)
    if robot:
        return Outcome(InboundStatus.IGNORED, robot)
    sender, name = _sender(mail, inbound)
    sender_key = sender.lower()
    actor = _mail_actor(sender)
    notes = list(mail.problems)
    item = _thread_item(mail, sender_key, addresses)
    body, full, html, whole = _texts(mail, limit=MAX_BODY if item is not None else MAX_DESCRIPTION)
    attachments = [*_attachments(mail), *whole]
    agent = Agent.objects.get(pk=addresses.agents[sender_key]) if sender_key in addresses.agents else None
    try:
        if item is not None:
            customers, agents, skipped = _cc_people(mail, inbound, sender=sender, addresses=addresses, actor=actor)
            if agent is not None:
                # Agents answer in the app; their mail to a ticket stays inside the team.
                message = add_message(item, kind=MessageKind.NOTE, body=body or "(no text)", full_body=full,
                                      body_html=html, attachments=attachments, channel=Channel.EMAIL,
                                      actor=Actor.agent(agent))
            else:
                author, _ = find_or_create_customer(sender, name=name, source=Source.EMAIL, actor=actor)
                message = add_message(item, kind=MessageKind.CUSTOMER, body=body or "(no text)", full_body=full,
                                      body_html=html, attachments=attachments, author_customer=author,
                                      channel=Channel.EMAIL, actor=actor)
                if author.pk != item.requester_id:
                    add_follower(item, customer=author, actor=actor)
            for customer in customers:
                add_follower(item, customer=customer, actor=actor)
            for follower in agents:
                add_follower(item, agent=follower, actor=actor)
            if skipped:
                notes.append(f"{skipped} more recipients were not added as followers")
            return Outcome(InboundStatus.PROCESSED, "; ".join(notes), item=item, message=message)
        customers, agents, skipped = _cc_people(mail, inbound, sender=sender, addresses=addresses, actor=actor)
        title = clean_subject(mail.subject)[:MAX_TITLE] or (body.split("\n", 1)[0][:80].strip() or "(no subject)")
        item = submit_ticket(title=title, description=body, requester_email=sender, requester_name=name,
                             followers=[*customers, *agents], channel=Channel.EMAIL, actor=actor)
        message = add_message(item, kind=MessageKind.CUSTOMER, body=body or "(no text)", full_body=full,
                              body_html=html, attachments=attachments, author_customer=item.requester,
                              channel=Channel.EMAIL, actor=actor)
    except DomainError as exc:
        raise Rejected(exc.message, tell_sender=exc.code in ("attachment_too_large", "blocked_attachment_type",
                                                                 "too_many_attachments")) from exc
    if live:  # an import files old mail: nobody is waiting for an acknowledgement
        withheld = backscatter_reason(inbound, sender)
        if withheld:
            notes.append(f"no acknowledgement: {withheld}")
        else:
            queue_acknowledgement(item=item, message=message, to=sender, answering=mail.message_id,
                                  address=inbound.mailbox.address if inbound.mailbox else "")
    if skipped:
        notes.append(f"{skipped} more recipients were not added as followers")
    return Outcome(InboundStatus.PROCESSED, "; ".join(notes), item=item, message=message)


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
    """Decide and file one `received` mail. Never raises for anything the mail holds. Imported
    mail is filed without acknowledgements or rejection notices to its senders."""
    live = inbound.transport != Transport.IMPORT
    addresses = addresses or mail_addresses()
    inbound.attempts += 1
    try:
        mail = parsed if parsed is not None else parse_stored(inbound)
    except Exception as exc:  # noqa: BLE001 - the parser is lenient; this is the last net
        log.exception("inbound %s: unparseable", inbound.pk)
        return _finish(inbound, Outcome(InboundStatus.FAILED, f"unparseable: {type(exc).__name__}: {exc}"[:2000]))
    try:
        return _file(inbound, mail, addresses, live=live)
    finally:
        if parsed is None:
            mail.close()


def _file(inbound: InboundEmail, mail: ParsedMail, addresses: MailAddresses, *, live: bool) -> InboundEmail:
    inbound.rfc_message_id = mail.message_id[:255]
    inbound.from_address = mail.from_address[:254]
    inbound.subject = mail.subject[:500]
    _mailbox(inbound, mail, addresses)
    try:
        with transaction.atomic():
            outcome = _decide(inbound, mail, addresses, live=live)
    except Rejected as exc:
        outcome = Outcome(InboundStatus.FAILED, exc.reason[:2000])
        if exc.tell_sender and live and mail.from_address:
            withheld = backscatter_reason(inbound, mail.from_address)
            if withheld:
                outcome.reason = f"{exc.reason}; sender not told: {withheld}"[:2000]
            else:
                with transaction.atomic():
                    queue_rejection(to=mail.from_address, subject=mail.subject, reason=exc.reason,
                                    answering=mail.message_id,
                                    address=inbound.mailbox.address if inbound.mailbox else "")
    except Exception as exc:  # noqa: BLE001 - a bug must not lose the mail: keep it, failed, with why
        log.exception("inbound %s: processing failed", inbound.pk)
        outcome = Outcome(InboundStatus.FAILED, f"processing error: {type(exc).__name__}: {exc}"[:2000])
    return _finish(inbound, outcome)


def _finish(inbound: InboundEmail, outcome: Outcome) -> InboundEmail:
    inbound.status = outcome.status
    inbound.reason = outcome.reason
    inbound.item = outcome.item
    inbound.message = outcome.message
    inbound.processed_at = timezone.now()
    inbound.save(update_fields=["status", "reason", "item", "message", "processed_at", "attempts", "rfc_message_id",
                                "from_address", "subject", "mailbox"])
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
    if raw is not None:
        return read_ahead(raw)
    try:
        mail = parse_stored(inbound)
    except Exception:  # noqa: BLE001 - process_one parses again and records the failure
        return None
    mail.stripped = strip_quotes(mail.text[:MAX_BODY])
    return mail


def read_ahead(raw: bytes) -> ParsedMail | None:
    """The pure part of processing one mail (parse, strip quotes), fit for a parser process."""
    try:
        mail = parse_mail(raw)
    except Exception:  # noqa: BLE001 - process_one parses again and records the failure
        return None
    mail.stripped = strip_quotes(mail.text[:MAX_BODY])
    return mail


def named_addresses(parsed: Iterable[ParsedMail | None]) -> Iterator[str]:
    """Everyone a batch of mail names: the customers the pipeline will look up."""
    for mail in parsed:
        if mail is not None:
            yield from (mail.from_address, mail.sender, *(address for _, address in [*mail.to, *mail.cc]))


def process_batch(rows: list[InboundEmail], parsed: list[ParsedMail | None], *,
                  lookups: tuple[set[str], set[str]] | None = None) -> list[InboundEmail]:
    """File claimed mails in the current transaction, with the settings, statuses, customers and
    domain owners the batch needs read once (`lookups` when a parser process worked them out)."""
    with batch_cache():
        addresses = mail_addresses()
        prefetch_customers(*(lookups or lookup_keys(named_addresses(parsed))))
        done = []
        for row, mail in zip(rows, parsed, strict=True):
            try:
                done.append(process_one(row, addresses=addresses, parsed=mail))
            finally:
                if mail is not None:
                    mail.close()
            if done[-1].status == InboundStatus.FAILED:
                forget_batch()  # its savepoint was rolled back, with whatever the lookups learnt in it
        return done


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


def pending_ids(limit: int = 500) -> list[int]:
    return list(InboundEmail.objects.filter(status=InboundStatus.RECEIVED).order_by("id")
                .values_list("id", flat=True)[:limit])
