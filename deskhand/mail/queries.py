"""Reads of the mail records: ticket addresses, the never-follow list, the inbound log, threads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from deskhand.agents.models import Agent
from deskhand.conf import conf
from deskhand.config.queries import get_setting
from deskhand.core.emailaddr import AddressError, normalize_domain
from deskhand.core.errors import Invalid, NotFound
from deskhand.mail.models import InboundEmail, InboundStatus, Mailbox, NeverFollow, OutboundMessage, OutboundStatus


def mailbox_list() -> QuerySet[Mailbox]:
    return Mailbox.objects.order_by("address")


def get_mailbox(mailbox_id: int) -> Mailbox:
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound("mailbox_not_found", "There is no such mailbox.")
    return mailbox


def never_follow_list() -> QuerySet[NeverFollow]:
    return NeverFollow.objects.select_related("mailbox").order_by("address")


def get_never_follow(entry_id: int) -> NeverFollow:
    entry = NeverFollow.objects.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound("never_follow_not_found", "That address is not on the list.")
    return entry


def is_ticket_address(address: str) -> bool:
    """Whether the SMTP listener takes mail for `address`: a ticket address (a mailbox, or one of
    DESKHAND_SUPPORT_ADDRESSES), or any address at a catch-all domain (`smtp_catch_all_domains`).
    Compared case-insensitively; read fresh each time, so a new mailbox takes mail at once."""
    address = address.strip().strip("<>").strip()
    if not address or len(address) > 254:
        return False
    key = address.lower()
    if key in (own.lower() for own in conf.support_address_list):
        return True
    if Mailbox.objects.filter(address__iexact=address).exists():
        return True
    local, at, domain = address.rpartition("@")
    if not (local and at and domain):
        return False
    catch_all = get_setting("smtp_catch_all_domains")
    if not catch_all:
        return False
    try:
        return normalize_domain(domain) in catch_all
    except AddressError:
        return False


@dataclass(frozen=True)
class MailAddresses:
    """Our own addresses, read once per batch of mail."""

    mailboxes: dict[str, Mailbox]  # lower-cased address → mailbox
    never_follow: frozenset[str]
    agents: dict[str, int]  # lower-cased address of an active agent → agent id

    @property
    def own(self) -> frozenset[str]:
        return frozenset(self.mailboxes)

    def mailbox_for(self, addresses: Iterable[str]) -> Mailbox | None:
        for address in addresses:
            mailbox = self.mailboxes.get(address.lower())
            if mailbox is not None:
                return mailbox
        return None


def mail_addresses() -> MailAddresses:
    mailboxes = {mailbox.address.lower(): mailbox for mailbox in Mailbox.objects.all()}
    never = frozenset(address.lower() for address in NeverFollow.objects.values_list("address", flat=True))
    agents = {email.lower(): pk for pk, email in Agent.objects.filter(is_active=True).values_list("pk", "email")}
    return MailAddresses(mailboxes=mailboxes, never_follow=never | frozenset(mailboxes), agents=agents)


def inbound_list(*, status: str | None = None) -> QuerySet[InboundEmail]:
    rows = InboundEmail.objects.defer("raw").select_related("mailbox").order_by("-id")
    if status:
        if status not in InboundStatus.values:
            raise Invalid("invalid_status", "status is received, processed, ignored or failed.", field="status")
        rows = rows.filter(status=status)
    return rows


def get_inbound(inbound_id: int) -> InboundEmail:
    inbound = InboundEmail.objects.filter(pk=inbound_id).first()
    if inbound is None:
        raise NotFound("inbound_not_found", "There is no such inbound mail.")
    return inbound


def inbound_for_messages(message_ids: Iterable[int]) -> dict[int, InboundEmail]:
    """The mail each conversation message came from (for "view original"), without raw bytes."""
    rows = InboundEmail.objects.defer("raw").filter(message_id__in=list(message_ids))
    return {row.message_id: row for row in rows if row.message_id is not None}


def item_for_thread(message_ids: list[str]) -> int | None:
    """The item a mail answers: the nearest of `message_ids` that we received or sent."""
    if not message_ids:
        return None
    found: dict[str, int] = {}
    for rfc_id, item_id in InboundEmail.objects.filter(
        rfc_message_id__in=message_ids, item__isnull=False,
    ).values_list("rfc_message_id", "item_id"):
        found.setdefault(rfc_id, item_id)
    for rfc_id, item_id in OutboundMessage.objects.filter(
        rfc_message_id__in=message_ids, item__isnull=False,
    ).values_list("rfc_message_id", "item_id"):
        found.setdefault(rfc_id, item_id)
    for rfc_id in message_ids:
        if rfc_id in found:
            return found[rfc_id]
    return None


def failed_outbound(limit: int = 20) -> list[OutboundMessage]:
    """The newest outbound mail that could not be delivered, for Administration → Email."""
    return list(OutboundMessage.objects.filter(status=OutboundStatus.FAILED)
                .defer("body_text", "body_html", "headers").order_by("-id")[:limit])


def undelivered_for_messages(message_ids: Iterable[int]) -> dict[int, list[OutboundMessage]]:
    """Failed outbound mail per conversation message (a reply that bounced), in one query."""
    found: dict[int, list[OutboundMessage]] = {}
    for row in (OutboundMessage.objects.filter(message_id__in=list(message_ids), status=OutboundStatus.FAILED)
                .only("message_id", "kind", "to", "last_error").order_by("id")):
        if row.message_id is not None:
            found.setdefault(row.message_id, []).append(row)
    return found
