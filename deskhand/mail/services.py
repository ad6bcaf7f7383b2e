"""Ticket addresses (mailboxes, optionally IMAP accounts) and the never-add-as-follower list.

Every ticket address is also on the never-follow list, for as long as it exists: that is what
stops Deskhand from adding itself (or another help desk) as a follower and mailing in a loop.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from deskhand.audit.services import diff, record
from deskhand.config.queries import get_setting
from deskhand.config.services import update_settings
from deskhand.core.actors import Actor
from deskhand.core.emailaddr import AddressError, normalize_domain, parse_email
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.core.inputs import UNSET, Maybe, given
from deskhand.core.text import clean_text
from deskhand.mail.forwarding import Confirmation
from deskhand.mail.inputs import ImapSettings, MailboxChanges
from deskhand.mail.models import (
    ForwardedArrival,
    ForwardingConfirmation,
    ForwardingTest,
    ImapSecurity,
    InboundEmail,
    Mailbox,
    NeverFollow,
)
from deskhand.mail.outbound import NewOutbound, queue_outbound

T = TypeVar("T")
MIN_POLL_SECONDS = 10
MAX_POLL_SECONDS = 86_400


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can change email settings."))


def _address(value: str, *, field: str = "address") -> str:
    try:
        return parse_email(value).address
    except AddressError as exc:
        raise Invalid("invalid_address", str(exc), field=field) from None


def _or(value: Maybe[T], current: T) -> T:
    return current if value is UNSET else value


def _imap(values: ImapSettings | None, current: Mailbox | None) -> dict[str, Any]:
    """The IMAP part of a mailbox, checked; `None` (or nothing given) turns IMAP off."""
    if values is None or not given(values):
        return {"imap_host": "", "imap_username": "", "imap_password": "", "imap_port": None}
    host = _or(values.host, current.imap_host if current else "")
    if not host.strip():
        raise Invalid("imap_host_required", gettext("Enter the IMAP server's host name."), field="imap.host")
    host = host.strip()
    try:
        normalize_domain(host) if not host.replace(".", "").isdigit() and host != "localhost" else None
    except AddressError:
        raise Invalid("invalid_imap_host", f"“{host[:100]}” is not a host name.", field="imap.host") from None
    security = _or(values.security, current.imap_security if current else ImapSecurity.SSL)
    if security not in ImapSecurity.values:
        raise Invalid("invalid_imap_security", gettext("security is ssl, starttls or none."), field="imap.security")
    port = _or(values.port, current.imap_port if current else None)
    if port is None:
        port = 993 if security == ImapSecurity.SSL else 143
    if not 1 <= port <= 65535:
        raise Invalid("invalid_imap_port", gettext("port is a number from 1 to 65535."), field="imap.port")
    username = _or(values.username, current.imap_username if current else "")
    username = clean_text(username, field="imap.username", max_length=254, label="username")
    if not username:
        raise Invalid("imap_username_required", gettext("Enter the IMAP user name."), field="imap.username")
    password = _or(values.password, current.imap_password if current else "")
    if len(password) > 500 or "\n" in password or "\x00" in password:
        raise Invalid("invalid_imap_password", gettext("The password is text of at most 500 characters."),
                      field="imap.password")
    if not password:
        raise Invalid("imap_password_required", gettext("Enter the IMAP password."), field="imap.password")
    folder = _or(values.folder, current.imap_folder if current else "INBOX")
    folder = clean_text(folder, field="imap.folder", max_length=200, label="folder") or "INBOX"
    poll = _or(values.poll_seconds, current.poll_seconds if current else 60)
    if not MIN_POLL_SECONDS <= poll <= MAX_POLL_SECONDS:
        raise Invalid("invalid_poll_seconds",
                      gettext("poll_seconds is a number from %(value)s to %(value2)s.") % {"value": MIN_POLL_SECONDS, "value2": MAX_POLL_SECONDS},
                      field="imap.poll_seconds")
    return {"imap_host": host, "imap_port": port, "imap_security": security, "imap_username": username,
            "imap_password": password, "imap_folder": folder, "poll_seconds": poll}


def _state(mailbox: Mailbox) -> dict[str, Any]:
    # The password never goes into the audit trail; whether it changed does.
    return {"address": mailbox.address, "name": mailbox.name, "imap_host": mailbox.imap_host,
            "imap_port": mailbox.imap_port, "imap_security": mailbox.imap_security,
            "imap_username": mailbox.imap_username, "imap_folder": mailbox.imap_folder,
            "poll_seconds": mailbox.poll_seconds, "imap_password": "set" if mailbox.imap_password else ""}


def _sync_never_follow(mailbox: Mailbox) -> None:
    NeverFollow.objects.filter(mailbox=mailbox).exclude(address__iexact=mailbox.address).delete()
    existing = NeverFollow.objects.filter(address__iexact=mailbox.address).first()
    if existing is None:
        NeverFollow.objects.create(address=mailbox.address, mailbox=mailbox)
    elif existing.mailbox_id != mailbox.pk:
        existing.mailbox = mailbox
        existing.save(update_fields=["mailbox"])


def create_mailbox(*, address: str, name: str = "", imap: ImapSettings | None = None, actor: Actor) -> Mailbox:
    _admin(actor)
    clean_address = _address(address)
    clean_name = clean_text(name, field="name", max_length=200)
    values = _imap(imap, None)
    if Mailbox.objects.filter(address__iexact=clean_address).exists():
        raise Conflict("mailbox_exists", gettext("%(clean_address)s is already a ticket address.") % {"clean_address": clean_address}, field="address")
    try:
        with transaction.atomic():
            mailbox = Mailbox.objects.create(address=clean_address, name=clean_name, **values)
            _sync_never_follow(mailbox)
            record(actor=actor, action="mailbox.created", object_type="mailbox", object_id=mailbox.pk,
                   object_label=mailbox.address, changes=_state(mailbox))
    except IntegrityError:
        raise Conflict("mailbox_exists", gettext("%(clean_address)s is already a ticket address.") % {"clean_address": clean_address}, field="address") from None
    return mailbox


def update_mailbox(mailbox: Mailbox, *, changes: MailboxChanges, actor: Actor) -> Mailbox:
    _admin(actor)
    before = _state(mailbox)
    values: dict[str, Any] = {}
    if changes.address is not UNSET:
        values["address"] = _address(changes.address)
        if Mailbox.objects.filter(address__iexact=values["address"]).exclude(pk=mailbox.pk).exists():
            raise Conflict("mailbox_exists", f"{values['address']} is already a ticket address.", field="address")
    if changes.name is not UNSET:
        values["name"] = clean_text(changes.name, field="name", max_length=200)
    if changes.imap is not UNSET:
        values.update(_imap(changes.imap, mailbox if mailbox.is_imap else None))
    try:
        with transaction.atomic():
            for key, value in values.items():
                setattr(mailbox, key, value)
            mailbox.save()
            _sync_never_follow(mailbox)
            changed = diff(before, _state(mailbox))
            if changed:
                record(actor=actor, action="mailbox.updated", object_type="mailbox", object_id=mailbox.pk,
                       object_label=mailbox.address, changes=changed)
    except IntegrityError:
        raise Conflict("mailbox_exists", gettext("That address is already a ticket address."), field="address") from None
    return mailbox


@transaction.atomic
def delete_mailbox(mailbox: Mailbox, *, actor: Actor) -> None:
    """Mail already received stays, without its mailbox; the address leaves the never-follow list."""
    _admin(actor)
    record(actor=actor, action="mailbox.deleted", object_type="mailbox", object_id=mailbox.pk,
           object_label=mailbox.address, changes=_state(mailbox))
    mailbox.delete()


def ensure_mailboxes(addresses: list[str], *, actor: Actor) -> list[Mailbox]:
    """DESKHAND_SUPPORT_ADDRESSES at start: each exists as a ticket address (kept if it does)."""
    mailboxes = []
    for address in addresses:
        clean_address = _address(address, field="DESKHAND_SUPPORT_ADDRESSES")
        mailbox = Mailbox.objects.filter(address__iexact=clean_address).first()
        if mailbox is None:
            try:
                mailbox = create_mailbox(address=clean_address, actor=actor)
            except Conflict:
                mailbox = Mailbox.objects.get(address__iexact=clean_address)
        mailboxes.append(mailbox)
    return mailboxes


def record_poll(mailbox: Mailbox, *, ok: bool, message: str) -> None:
    """What the last IMAP poll found: shown in Administration → Email."""
    Mailbox.objects.filter(pk=mailbox.pk).update(last_poll_at=timezone.now(), last_poll_ok=ok,
                                                 last_poll_message=message[:500])


def add_never_follow(*, address: str, actor: Actor) -> NeverFollow:
    _admin(actor)
    clean_address = _address(address)
    if NeverFollow.objects.filter(address__iexact=clean_address).exists():
        raise Conflict("never_follow_exists", gettext("%(clean_address)s is already on the list.") % {"clean_address": clean_address}, field="address")
    try:
        with transaction.atomic():
            entry = NeverFollow.objects.create(address=clean_address)
            record(actor=actor, action="never_follow.added", object_type="never_follow", object_id=entry.pk,
                   object_label=entry.address)
    except IntegrityError:
        raise Conflict("never_follow_exists", gettext("%(clean_address)s is already on the list.") % {"clean_address": clean_address}, field="address") from None
    return entry


@transaction.atomic
def remove_never_follow(entry: NeverFollow, *, actor: Actor) -> None:
    _admin(actor)
    if entry.mailbox_id is not None:
        raise Conflict("is_ticket_address", gettext("%(address)s is a ticket address; it stays on the list while it is one.") % {"address": entry.address},
                       field="address")
    record(actor=actor, action="never_follow.removed", object_type="never_follow", object_id=entry.pk,
           object_label=entry.address)
    entry.delete()


# -- forwarding set-up -----------------------------------------------------------------------------


@transaction.atomic
def declare_forwarding_address(*, address: str, actor: Actor) -> str:
    """The help desk's own address that forwards its mail to Deskhand (support@yourcompany.com):
    a setting, and on the never-add-as-follower list from now on (Deskhand must not copy its
    own forwarder on a reply). "" clears the setting; the list keeps the address until removed."""
    _admin(actor)
    cleaned = _address(address) if address.strip() else ""
    if cleaned and Mailbox.objects.filter(address__iexact=cleaned).exists():
        raise Invalid("forwarding_is_ticket_address", gettext("%(cleaned)s is a ticket address: forward from the address "
                      "your customers write to, to a ticket address.") % {"cleaned": cleaned}, field="address")
    saved: str = update_settings({"forwarding_address": cleaned}, actor=actor)["forwarding_address"]
    if saved and not NeverFollow.objects.filter(address__iexact=saved).exists():
        add_never_follow(address=saved, actor=actor)
    return saved


@transaction.atomic
def send_forwarding_test(*, actor: Actor) -> ForwardingTest:
    """A test mail to the forwarding address, through the outbox, from the first ticket address:
    when forwarding works it comes back in (and is ignored there as our own mail)."""
    _admin(actor)
    to = str(get_setting("forwarding_address"))
    if not to:
        raise Invalid("no_forwarding_address", gettext("Enter the address you forward from first."), field="address")
    mailbox = Mailbox.objects.order_by("id").first()
    if mailbox is None:
        raise Invalid("no_ticket_address", gettext("Add a ticket address first: the test mail comes back to it."),
                      field="address")
    [outbound] = queue_outbound([NewOutbound(kind="forwarding_test", to=[to], address=mailbox.address,
                                             context={"forwarding_address": to, "ticket_address": mailbox.address})])
    test = ForwardingTest.objects.create(outbound=outbound, to=to, rfc_message_id=outbound.rfc_message_id)
    record(actor=actor, action="forwarding.test_sent", object_type="settings", object_id=None,
           object_label=to, changes={"to": to})
    return test


def keep_forwarding_confirmations(found: list[tuple[InboundEmail, Confirmation]]) -> None:
    """Keep the forwarding confirmations a batch of mail held, for the admin; a mail processed
    again keeps one row."""
    for inbound, confirmation in found:
        ForwardingConfirmation.objects.update_or_create(inbound=inbound, defaults={
            "provider": confirmation.provider, "requested_by": confirmation.requested_by,
            "link": confirmation.link, "code": confirmation.code})


def note_forwarded_arrival(*, address: str, inbound: InboundEmail) -> None:
    """The first mail through the forwarding address, once (a concurrent batch may have been first)."""
    ForwardedArrival.objects.bulk_create([ForwardedArrival(address=address.lower(), inbound=inbound,
                                                           arrived_at=inbound.received_at or timezone.now())],
                                         ignore_conflicts=True)
