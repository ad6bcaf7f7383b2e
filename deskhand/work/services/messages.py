"""The conversation: customer messages, agent replies and internal notes, with attachments."""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import IO, Any

from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext

from deskhand.agents.models import Agent
from deskhand.audit.services import record_many
from deskhand.automations.events import ItemEvent
from deskhand.config.queries import get_settings
from deskhand.core.actors import Actor, ActorKind
from deskhand.core.emailaddr import AddressError, parse_email
from deskhand.core.errors import Invalid
from deskhand.core.html import sanitize_html
from deskhand.core.text import clean_text, has_control_characters
from deskhand.customers.models import Customer
from deskhand.mail.outbound import queue_reply
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Attachment, Channel, Follower, Item, Kind, Message, MessageKind
from deskhand.work.models.messages import attachment_storage
from deskhand.work.services._common import automate, item_event
from deskhand.work.services.items import create_task, submit_ticket, whole_seconds

MAX_BODY = 200_000
MAX_ATTACHMENTS = 20
MAX_NAME = 200
# Copies of one reply: Cc and Bcc addresses each (a reply is not a mailing list).
MAX_COPIES = 10
# What a stored file name keeps: letters, digits, dot, dash and underscore (Unicode letters too).
_UNSAFE_NAME = re.compile(r"[^\w.-]+")
_SAFE_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}")
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(10)), *(f"LPT{n}" for n in range(10))}
FULL_TEXT_NAME = "full-text.txt"


@dataclass(frozen=True)
class NewAttachment:
    """A file to attach, from any entry point: an upload, an API multipart part, a mail part."""

    name: str
    content: bytes | IO[bytes]
    content_type: str = ""
    inline: bool = False
    content_id: str = ""


STORE_CHUNK = 1024 * 1024


def _measure(content: bytes | IO[bytes], limit: int) -> tuple[bytes | IO[bytes], int]:
    """(the content, its size) without reading a file into memory: a seekable file is measured
    where it stands and stored from there in chunks; any other stream is read, one byte past the
    limit at most, so that "too large" is known without reading a huge one."""
    if isinstance(content, bytes):
        return content, len(content)
    if content.seekable():
        start = content.tell()
        size = content.seek(0, 2) - start
        content.seek(start)
        return content, size
    data = content.read(limit + 1)
    return data, len(data)


def _digest_and_rewind(content: IO[bytes]) -> str:
    start = content.tell()
    digest = hashlib.sha256()
    while chunk := content.read(STORE_CHUNK):
        digest.update(chunk)
    content.seek(start)
    return digest.hexdigest()


class _FileFrom(File[bytes]):
    """A Django File over an open stream that starts where the stream stands (storage reads it
    in chunks from there instead of from its beginning). Object storage seeks to 0 and reads it
    as a file instead: `seek`, `tell` and `read` count from that start too."""

    def __init__(self, stream: IO[bytes], size: int) -> None:
        super().__init__(stream)
        self._stream, self._start, self._size = stream, stream.tell(), size

    @property
    def size(self) -> int:
        return self._size

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        self._stream.seek(self._start)
        while data := self._stream.read(chunk_size or STORE_CHUNK):
            yield data

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: self._start, 1: self._stream.tell(), 2: self._start + self._size}[whence]
        return self._stream.seek(max(self._start, base + offset)) - self._start

    def tell(self) -> int:
        return self._stream.tell() - self._start

    def read(self, size: int | None = -1) -> bytes:
        left = max(0, self._size - self.tell())
        return self._stream.read(left if size is None or size < 0 else min(size, left))


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if dot and stem.strip(".") and _SAFE_EXTENSION.fullmatch(f".{extension}"):
        return stem, f".{extension.lower()}"
    return name, ""


def storage_name(name: str) -> str:
    """A file name every storage accepts, derived from `name`: its last path part, unsafe
    characters as `_`, at most 120 bytes, never empty, dots only or a Windows device name; the
    extension is kept when it is plain letters and digits."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    stem, extension = _split_extension(base)
    stem = _UNSAFE_NAME.sub("_", stem).strip("._")
    stem = stem.encode()[:120].decode(errors="ignore").strip("._")
    if not stem or stem.split(".", 1)[0].upper() in _WINDOWS_RESERVED:
        stem = f"attachment-{stem}" if stem else "attachment"
    return f"{stem}{extension}"


def display_name(name: str) -> str:
    """The name agents see: the original's last path part when it is printable text of a sane
    length, else (or when it is dots only) the storage name."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not base.strip(".") or has_control_characters(base) or not base.isprintable():
        return storage_name(name or "")
    if len(base) > MAX_NAME:
        stem, extension = _split_extension(base)
        return stem[:MAX_NAME - len(extension)].rstrip() + extension
    return base


def fit_text(text: str, *, limit: int, whole: str | IO[bytes] = "") -> tuple[str, NewAttachment | None]:
    """`text` for a field of `limit` characters. When it does not fit, or when `whole` (the longer
    text it was cut from, or a UTF-8 file of it) is given, the limit's worth with a note, and the
    whole text as a UTF-8 `full-text.txt` to attach: a mail cannot be asked to be shorter, and
    nothing of it is lost."""
    if len(text) <= limit and not whole:
        return text, None
    note = f"\n\n[This text was longer than {limit:,} characters; the full text is attached as {FULL_TEXT_NAME}.]"
    content = whole.encode() if isinstance(whole, str) and whole else text.encode() if isinstance(whole, str) else whole
    return (text[:max(0, limit - len(note))].rstrip() + note,
            NewAttachment(name=FULL_TEXT_NAME, content=content, content_type="text/plain; charset=utf-8"))


def _clean_attachments(files: list[NewAttachment] | None, settings: dict[str, Any] | None = None,
                       ) -> list[tuple[NewAttachment, bytes | IO[bytes], int, str]]:
    if not files:
        return []
    if len(files) > MAX_ATTACHMENTS:
        raise Invalid("too_many_attachments", gettext("Attach at most %(value)s files.") % {"value": MAX_ATTACHMENTS}, field="attachments")
    settings = settings or get_settings()
    limit = int(settings["attachment_max_bytes"])
    blocked = set(settings["blocked_attachment_extensions"])
    cleaned = []
    for upload in files:
        # A name storage would refuse (`..`, empty, a NUL, 300 characters) is renamed, not refused:
        # a mail cannot be asked for a better one.
        name = display_name(upload.name)
        original = (upload.name or "").rstrip(" .\x00")
        extensions = {part.rsplit(".", 1)[-1].lower() for part in (name, original, storage_name(name)) if "." in part}
        extension = next((extension for extension in sorted(extensions) if extension in blocked), "")
        if extension:
            raise Invalid("blocked_attachment_type", gettext("Files of type .%(extension)s cannot be attached (%(name)s).") % {"extension": extension, "name": name},
                          field="attachments")
        content, size = _measure(upload.content, limit)
        if size > limit:
            raise Invalid("attachment_too_large",
                          f"{name} is larger than the limit of {limit // (1024 * 1024) or limit} "
                          f"{'MB' if limit >= 1024 * 1024 else 'bytes'}.", field="attachments")
        cleaned.append((upload, content, size, name))
    return cleaned


def _attachment_rows(message: Message, files: list[tuple[NewAttachment, bytes | IO[bytes], int, str]],
                     stored: list[str]) -> list[Attachment]:
    """Files into storage, a file in chunks (a 25 MB attachment is never in memory whole), and
    their rows, unsaved."""
    attachments = []
    for upload, content, size, name in files:
        given = (upload.content_type or "").strip().lower()
        # Clients send octet-stream for anything they do not know; the name often says more.
        guessed = mimetypes.guess_type(name)[0] if given in ("", "application/octet-stream") else None
        content_type = (guessed or given or "application/octet-stream")[:255]
        file: File[bytes]
        if isinstance(content, bytes):
            sha256, file = hashlib.sha256(content).hexdigest(), ContentFile(content)
        else:
            sha256, file = _digest_and_rewind(content), _FileFrom(content, size)
        attachment = Attachment(
            message=message, name=name, content_type=content_type, size=size,
            sha256=sha256, inline=upload.inline, content_id=upload.content_id[:255],
        )
        attachment.file.save(storage_name(name), file, save=False)
        stored.append(str(attachment.file.name))
        attachments.append(attachment)
    return attachments


def customer_recipients(item: Item) -> list[Customer]:
    """Who hears an agent's reply: the requester and the customers following the item."""
    ids = set(Follower.objects.filter(item=item, customer__isnull=False).values_list("customer_id", flat=True))
    if item.requester_id:
        ids.add(item.requester_id)
    return list(Customer.objects.filter(pk__in=ids, merged_into__isnull=True).order_by("email"))


@dataclass(frozen=True)
class NewMessage:
    """One entry of a conversation, from any entry point, alone or in a batch (`add_messages`)."""

    item: Item
    kind: str
    body: Any
    actor: Actor
    body_html: str = ""
    full_body: str = ""
    attachments: Sequence[NewAttachment] = ()
    author_customer: Customer | None = None
    channel: str = "web"
    opening: bool = False  # the mail that opened its ticket: not a customer's reply
    # A reply's copies: Cc (in the mail's headers, shown on the message) and Bcc (envelope only).
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()


@dataclass
class _Checked:
    new: NewMessage
    text: str
    files: list[tuple[NewAttachment, bytes | IO[bytes], int, str]]
    author_customer: Customer | None
    cc: list[str]
    bcc: list[str]
    html: str


def copy_addresses(values: Sequence[str], *, field: str, skip: Sequence[str] = ()) -> list[str]:
    """Cc or Bcc addresses as sent: each one checked and normalised, duplicates and those in
    `skip` (already a recipient) dropped, at most MAX_COPIES."""
    seen = {address.lower() for address in skip}
    addresses: list[str] = []
    for raw in values:
        try:
            address = parse_email(raw).address
        except AddressError as exc:
            raise Invalid("invalid_address", f"“{str(raw)[:100]}” is not an email address: {exc}", field=field) from None
        if address.lower() not in seen:
            seen.add(address.lower())
            addresses.append(address)
    if len(addresses) > MAX_COPIES:
        raise Invalid("too_many_copies", gettext("Send a copy to at most %(value)s addresses.") % {"value": MAX_COPIES}, field=field)
    return addresses


def _check(new: NewMessage, settings: dict[str, Any] | None) -> _Checked:
    if new.kind not in MessageKind.values:
        raise Invalid("invalid_message_kind", gettext("A message is a customer message, a reply or a note."), field="kind")
    text = clean_text(new.body, field="body", max_length=MAX_BODY, multiline=True)
    files = _clean_attachments(list(new.attachments), settings)
    if not text and not files:
        raise Invalid("body_required", gettext("Write a message or attach a file."), field="body")
    author_customer = new.author_customer
    if new.kind == MessageKind.CUSTOMER:
        author_customer = author_customer or new.item.requester
        if author_customer is None:
            raise Invalid("author_required", gettext("A customer message needs its customer."), field="author")
    elif new.actor.kind == ActorKind.CUSTOMER:
        raise Invalid("agent_required", gettext("Replies and notes are written by the team."), field="kind")
    if (new.cc or new.bcc) and new.kind != MessageKind.REPLY:
        raise Invalid("copies_on_reply", gettext("Only a reply is sent, so only a reply has Cc and Bcc."), field="cc")
    cc = copy_addresses(new.cc, field="cc")
    bcc = copy_addresses(new.bcc, field="bcc", skip=cc)
    # The team's HTML (the reply box's Markdown) goes out in mail as it is stored: sanitized here,
    # whoever rendered it. A customer's mail keeps its HTML as received and is sanitized for display.
    html = new.body_html if new.kind == MessageKind.CUSTOMER else sanitize_html(new.body_html)
    return _Checked(new, text, files, author_customer, cc, bcc, html)


def check_attachments(files: Sequence[NewAttachment], settings: dict[str, Any] | None = None) -> None:
    """Raise the Invalid that `add_messages` would raise for these files (count, size, type),
    without storing anything, so that a batch can set a mail aside before it writes any. Files
    are bytes or seekable streams, which are left where they stood."""
    _clean_attachments(list(files), settings)


def add_messages(batch: Sequence[NewMessage]) -> list[Message]:
    """Entries of conversations, all or none: the messages, their files and attachment rows, the
    items' `updated_at` and one history row each in a few statements. A reply goes to the
    requester and the customer followers through the outbox, after commit; a note stays inside
    the team."""
    settings = get_settings() if any(new.attachments for new in batch) else None
    checked = [_check(new, settings) for new in batch]
    agent_ids = {new.actor.agent_id for new in batch if new.actor.agent_id}
    agents = Agent.objects.in_bulk(agent_ids) if agent_ids else {}
    stored: list[str] = []
    try:
        with transaction.atomic():
            messages = []
            for entry in checked:
                new, text = entry.new, entry.text
                customer = entry.author_customer if new.kind == MessageKind.CUSTOMER else None
                agent = agents.get(new.actor.agent_id) if new.actor.agent_id else None
                messages.append(Message(
                    item=new.item, kind=new.kind, body=text, body_html=entry.html, channel=new.channel,
                    full_body=new.full_body if new.full_body.strip() != text else "",
                    author_agent=agent if new.kind != MessageKind.CUSTOMER else None, author_customer=customer,
                    author_email=(customer.email if customer else agent.email if agent else new.actor.label)[:254],
                    author_name=((customer.name if customer else agent.name if agent else "") or "")[:200],
                ))
            Message.objects.bulk_create(messages)
            attachments: list[list[Attachment]] = [
                _attachment_rows(message, entry.files, stored) for message, entry in zip(messages, checked, strict=True)]
            Attachment.objects.bulk_create([row for rows in attachments for row in rows])
            latest: dict[int, Any] = {}
            events = []
            for message, entry, saved in zip(messages, checked, attachments, strict=True):
                new = entry.new
                if new.kind == MessageKind.REPLY:
                    recipients = customer_recipients(new.item)
                    message.recipients = [customer.email for customer in recipients]
                    message.save(update_fields=["recipients"])
                    to = {address.lower() for address in message.recipients}
                    # A copy to someone the reply goes to anyway would be a second copy.
                    entry.cc = [address for address in entry.cc if address.lower() not in to]
                    entry.bcc = [address for address in entry.bcc if address.lower() not in to]
                    if recipients or entry.cc or entry.bcc:
                        queue_reply(item=new.item, message=message, to=message.recipients, attachments=saved,
                                    cc=entry.cc, bcc=entry.bcc)
                latest[new.item.pk] = max(latest.get(new.item.pk, message.created_at), message.created_at)
                events.append(item_event(new.item, f"message.{new.kind}", actor=new.actor, changes={
                    "message": message.pk, "attachments": [a.name for a in saved],
                    **({"to": message.recipients} if new.kind == MessageKind.REPLY else {}),
                    **({"cc": entry.cc} if entry.cc else {}), **({"bcc": entry.bcc} if entry.bcc else {}),
                }))
            if latest:  # one statement for the batch: its items all changed just now
                Item.objects.filter(pk__in=list(latest)).update(updated_at=max(latest.values()))
            for kind, column in ((MessageKind.CUSTOMER, "last_customer_message_at"),
                                 (MessageKind.REPLY, "last_agent_reply_at")):
                written = {e.new.item.pk for e in checked if e.new.kind == kind}
                if written:
                    Item.objects.filter(pk__in=written).update(**{column: max(latest.values())})
            replies = [message for message in messages if message.kind == MessageKind.REPLY]
            if replies:  # an item's first reply is its first response, set once (the reports measure it)
                first = min(message.created_at for message in replies)
                created = dict(Item.objects.filter(pk__in={message.item_id for message in replies},
                                                   first_response_at__isnull=True).values_list("pk", "created_at"))
                if created:
                    Item.objects.filter(pk__in=list(created), first_response_at__isnull=True).update(
                        first_response_at=first, first_response_seconds=Case(
                            *[When(pk=pk, then=Value(whole_seconds(first - at))) for pk, at in created.items()],
                            output_field=IntegerField()))
            record_many(events)
            automate(_reply_events(checked))
    except BaseException:
        storage = attachment_storage()
        for name in stored:
            storage.delete(name)
        raise
    return messages


def _reply_events(checked: Sequence[_Checked]) -> list[ItemEvent]:
    """A customer wrote (not the mail that opened the ticket), or the team replied."""
    events = []
    for entry in checked:
        new = entry.new
        kind, organization = new.item.kind, new.item.organization_id
        if new.kind == MessageKind.CUSTOMER and not new.opening:
            events.append(ItemEvent(new.item.pk, "customer_replied", actor=new.actor, kind=kind,
                                    organization_id=organization))
        elif new.kind == MessageKind.REPLY:
            events.append(ItemEvent(new.item.pk, "agent_replied", actor=new.actor, kind=kind,
                                    organization_id=organization))
        elif new.kind == MessageKind.NOTE and "@" in entry.text and new.channel != Channel.EMAIL:
            # For the mentions in it (deskhand.notifications); no rule or clock sees notes. Not for
            # a note that came by mail: its From address is not proof that the agent wrote it, and
            # a forged one must not make the help desk tell colleagues "Ana mentioned you".
            events.append(ItemEvent(new.item.pk, "note_added", actor=new.actor, kind=kind,
                                    organization_id=organization, changes={"text": (None, entry.text)}))
    return events


def add_message(
    item: Item,
    *,
    kind: str,
    body: Any,
    body_html: str = "",
    full_body: str = "",
    attachments: list[NewAttachment] | None = None,
    author_customer: Customer | None = None,
    channel: str = "web",
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    actor: Actor,
) -> Message:
    """`add_messages` for one entry."""
    [message] = add_messages([NewMessage(
        item=item, kind=kind, body=body, actor=actor, body_html=body_html, full_body=full_body,
        attachments=attachments or (), author_customer=author_customer, channel=channel, cc=cc, bcc=bcc)])
    return message


@transaction.atomic
def submit_request(draft: ItemDraft, *, body: str, attachments: Sequence[NewAttachment] = (), channel: str,
                   actor: Actor, kind: str = Kind.TICKET) -> Item:
    """A customer's new request from the portal or a web form: the ticket (or a task, for a form
    that makes tasks) and its first message (the text and the files), then the automations once,
    as for a mail."""
    create = submit_ticket if kind == Kind.TICKET else create_task
    item = create(replace(draft, description=body), channel=channel, actor=actor, defer_automations=True)
    add_messages([NewMessage(item=item, kind=MessageKind.CUSTOMER, body=body, actor=actor,
                             attachments=attachments, author_customer=item.requester, channel=channel)])
    automate([ItemEvent(item.pk, "created", actor=actor, kind=item.kind, organization_id=item.organization_id)])
    return item
