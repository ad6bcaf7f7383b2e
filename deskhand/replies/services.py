"""Writes of replying: canned responses and macros (shared ones by admins, personal ones by their
owner), applying a macro, sending a reply from the reply box (Markdown, copies, signature, pasted
images, then a status), and the box's draft."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from deskhand.agents.models import Agent
from deskhand.audit.services import diff, record
from deskhand.automations import services as automation_services

# The engine's own step: a macro's actions change the item exactly as an automation's do.
from deskhand.automations.engine import _perform as perform_action
from deskhand.automations.rules import MAX_ACTIONS, Action, ActionType, AssignMode, ItemKind, Rule, Trigger, TriggerType
from deskhand.automations.stored import action_json, rule_from_json
from deskhand.config.queries import get_settings
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.core.inputs import given
from deskhand.core.text import clean_text
from deskhand.replies import markdown
from deskhand.replies.inputs import CannedChanges, Draft, MacroChanges, NewCannedResponse, NewMacro, Reply
from deskhand.replies.models import CannedResponse, Macro, PastedImage, ReplyDraft
from deskhand.replies.placeholders import check_placeholders, fill
from deskhand.replies.queries import then_status
from deskhand.work.inputs import ItemChanges
from deskhand.work.models import Item, Kind, Message, MessageKind
from deskhand.work.services._common import record_item_event
from deskhand.work.services.items import change_item
from deskhand.work.services.messages import MAX_BODY, NewAttachment, add_message

MAX_TEXT = 20_000  # a canned response or a macro's reply
MAX_DRAFT_COPIES = 2000
_SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
# What a macro may do: what an automation does to a ticket, but its reply is the macro's own text.
MACRO_ACTIONS = frozenset({ActionType.ASSIGN, ActionType.SET_STATUS, ActionType.SET_PRIORITY, ActionType.SET_FIELD,
                           ActionType.MOVE_TO_PROJECT, ActionType.CUSTOMER_PROJECT, ActionType.ADD_FOLLOWER,
                           ActionType.APPLY_SLA, ActionType.SEND_SURVEY, ActionType.NOTE})
# Pasted images: what the box takes, recognised by their bytes, not by what the browser says.
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif",
               b"GIF89a": "image/gif"}
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PASTED = 20  # per agent and item, until the reply is sent
PASTED_KEPT = timedelta(days=30)
PASTED_PREFIX = "/replies/images/"


def _agent(actor: Actor) -> Agent:
    agent = Agent.objects.filter(pk=actor.agent_id, is_active=True).first() if actor.agent_id else None
    if agent is None:
        raise Forbidden("agent_required", gettext("Only an agent can do this."))
    return agent


def _owner(shared: bool, actor: Actor, what: str) -> int | None:
    """Who a canned response or macro belongs to: nobody (shared, which only admins may make), or its author."""
    if shared:
        if not actor.is_admin:
            raise Forbidden("admin_required", gettext("Only an administrator can share a %(what)s with the team.") % {"what": what})
        return None
    return _agent(actor).pk


def _may_change(owner_id: int | None, actor: Actor, what: str) -> None:
    if owner_id is None and not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can change a shared %(what)s.") % {"what": what})
    if owner_id is not None and owner_id != actor.agent_id:
        raise Forbidden("not_yours", gettext("This %(what)s is another agent's.") % {"what": what})


def _shortcut(value: str) -> str:
    text = clean_text(value, field="shortcut", max_length=41).lstrip(";").lower()
    if text and not _SHORTCUT.fullmatch(text):
        raise Invalid("invalid_shortcut", gettext("A shortcut is up to 40 letters, digits, - and _ (typed after ;)."),
                      field="shortcut")
    return text


def _audit(kind: str, row: CannedResponse | Macro, verb: str, *, actor: Actor, changes: dict[str, Any]) -> None:
    record(actor=actor, action=f"{kind}.{verb}", object_type=kind, object_id=row.pk, object_label=str(row),
           changes=changes)


def _save(row: CannedResponse | Macro, field: str, message: str) -> None:
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict(f"{field}_taken", message, field=field) from None


# -- canned responses ----------------------------------------------------------------------------


def _canned_state(row: CannedResponse) -> dict[str, Any]:
    return {"title": row.title, "body": row.body, "shortcut": row.shortcut, "shared": row.owner_id is None}


def _fill_canned(row: CannedResponse, *, title: str, body: str, shortcut: str) -> None:
    row.title = clean_text(title, field="title", max_length=200, required=True)
    row.body = clean_text(body, field="body", max_length=MAX_TEXT, required=True, multiline=True)
    check_placeholders(row.body, field="body")
    row.shortcut = _shortcut(shortcut)


def _save_canned(row: CannedResponse) -> None:
    if row.shortcut and CannedResponse.objects.filter(owner_id=row.owner_id, shortcut__iexact=row.shortcut).exclude(
            pk=row.pk).exists():
        raise Conflict("shortcut_taken", gettext("The shortcut ;%(shortcut)s is taken.") % {"shortcut": row.shortcut}, field="shortcut")
    _save(row, "title", "A canned response with this title exists already.")


@transaction.atomic
def create_canned_response(new: NewCannedResponse, *, actor: Actor) -> CannedResponse:
    row = CannedResponse(owner_id=_owner(new.shared, actor, "canned response"))
    _fill_canned(row, title=new.title, body=new.body, shortcut=new.shortcut)
    _save_canned(row)
    _audit("canned_response", row, "created", actor=actor, changes=_canned_state(row))
    return row


@transaction.atomic
def update_canned_response(row: CannedResponse, *, changes: CannedChanges, actor: Actor) -> CannedResponse:
    _may_change(row.owner_id, actor, "canned response")
    before = _canned_state(row)
    wanted = {**before, **given(changes)}
    if wanted["shared"] != before["shared"]:
        row.owner_id = _owner(bool(wanted["shared"]), actor, "canned response")
    _fill_canned(row, title=wanted["title"], body=wanted["body"], shortcut=wanted["shortcut"])
    _save_canned(row)
    changed = diff(before, _canned_state(row))
    if changed:
        _audit("canned_response", row, "updated", actor=actor, changes=changed)
    return row


@transaction.atomic
def delete_canned_response(row: CannedResponse, *, actor: Actor) -> None:
    _may_change(row.owner_id, actor, "canned response")
    _audit("canned_response", row, "deleted", actor=actor, changes=_canned_state(row))
    row.delete()


# -- macros ---------------------------------------------------------------------------------------


def macro_rule(name: str, actions: Sequence[Action]) -> Rule:
    """A macro's actions as an automation rule (a ticket's), for the automations' own checks."""
    return Rule(name=name or "macro", item_kind=ItemKind.TICKET, trigger=Trigger(TriggerType.CREATED),
                actions=tuple(actions))


def _check_actions(name: str, actions: Sequence[Action]) -> None:
    if len(actions) > MAX_ACTIONS:
        raise Invalid("too_many_actions", gettext("At most %(value)s actions.") % {"value": MAX_ACTIONS}, field="actions")
    for index, action in enumerate(actions):
        if action.type not in MACRO_ACTIONS:
            what = "The macro's reply is its own text" if action.type == ActionType.REPLY else "A macro cannot do that"
            raise Invalid("invalid_action", f"{what} (“{action.type}”).", field=f"actions.{index}.type")
        if action.type == ActionType.ASSIGN and action.mode == AssignMode.ROUND_ROBIN:
            raise Invalid("invalid_mode", gettext("A macro assigns a team or its least busy agent; taking turns is for "
                          "automations."), field=f"actions.{index}.mode")
    if actions:
        # The automations' parser and record checks: one language for what changes an item.
        automation_services.check(macro_rule(name, actions))


def _macro_state(row: Macro) -> dict[str, Any]:
    return {"name": row.name, "reply": row.reply, "actions": row.actions, "shared": row.owner_id is None}


def _fill_macro(row: Macro, *, name: str, reply: str, actions: Sequence[Action]) -> None:
    row.name = clean_text(name, field="name", max_length=200, required=True)
    row.reply = clean_text(reply, field="reply", max_length=MAX_TEXT, multiline=True)
    check_placeholders(row.reply, field="reply")
    _check_actions(row.name, actions)
    if not row.reply and not actions:
        raise Invalid("empty_macro", gettext("Give the macro a reply or at least one change."), field="actions")
    row.actions = [action_json(action) for action in actions]


def macro_actions(row: Macro) -> tuple[Action, ...]:
    return tuple(rule_from_json(name=row.name, item_kind=ItemKind.TICKET, trigger={"type": "created"},
                                conditions={}, actions=row.actions).actions)


@transaction.atomic
def create_macro(new: NewMacro, *, actor: Actor) -> Macro:
    row = Macro(owner_id=_owner(new.shared, actor, "macro"))
    _fill_macro(row, name=new.name, reply=new.reply, actions=new.actions)
    _save(row, "name", "A macro with this name exists already.")
    _audit("macro", row, "created", actor=actor, changes=_macro_state(row))
    return row


@transaction.atomic
def update_macro(row: Macro, *, changes: MacroChanges, actor: Actor) -> Macro:
    _may_change(row.owner_id, actor, "macro")
    before = _macro_state(row)
    wanted: dict[str, Any] = {"name": row.name, "reply": row.reply, "actions": macro_actions(row),
                              "shared": row.owner_id is None, **given(changes)}
    if wanted["shared"] != before["shared"]:
        row.owner_id = _owner(bool(wanted["shared"]), actor, "macro")
    _fill_macro(row, name=wanted["name"], reply=wanted["reply"], actions=wanted["actions"])
    _save(row, "name", "A macro with this name exists already.")
    changed = diff(before, _macro_state(row))
    if changed:
        _audit("macro", row, "updated", actor=actor, changes=changed)
    return row


@transaction.atomic
def delete_macro(row: Macro, *, actor: Actor) -> None:
    _may_change(row.owner_id, actor, "macro")
    _audit("macro", row, "deleted", actor=actor, changes=_macro_state(row))
    row.delete()


def via_macro(actor: Actor, macro: Macro) -> Actor:
    """The agent, as the history names them when a macro did the work: “ana@… via macro “Refund””."""
    return replace(actor, label=f"{actor.label} via macro “{macro.name}”"[:300])


@transaction.atomic
def apply_macro(item: Item, macro: Macro, *, actor: Actor) -> Message | None:
    """The macro's reply (placeholders filled, the agent's signature below), then its changes,
    performed by the automation engine's own step with the agent as actor: all of it or, when
    any part fails, nothing. Returns the reply sent, if the macro has one."""
    agent = _agent(actor)
    if macro.owner_id is not None and macro.owner_id != agent.pk:
        raise Forbidden("not_yours", gettext("This macro is another agent's."))
    if item.kind != Kind.TICKET:
        raise Invalid("tickets_only", gettext("Macros apply to tickets."), field="item")
    actions = macro_actions(macro)
    _check_actions(macro.name, actions)  # what it names may be gone since it was saved
    via = via_macro(actor, macro)
    message = None
    if macro.reply.strip():
        message = send_reply(item, reply=Reply(body=fill(macro.reply, item, agent)), actor=via, draft=False)
    done = []
    for action in actions:
        item.refresh_from_db()
        done.append(perform_action(action, item, via, 0) or str(action.type))
    item.refresh_from_db()
    record_item_event(item, "macro.applied", actor=via, changes={
        "macro": macro.pk, "name": macro.name, "did": (["replied"] if message else []) + done})
    return message


# -- the reply box -------------------------------------------------------------------------------


def split_addresses(text: str) -> list[str]:
    """The Cc or Bcc box as addresses: separated by commas, semicolons or spaces."""
    return [part for part in re.split(r"[,;\s]+", text or "") if part][:50]


def _pasted(agent: Agent, item: Item, body: str) -> tuple[list[NewAttachment], dict[str, str]]:
    """The images pasted into `body` by `agent` on `item`, as inline attachments, and where the
    HTML points at them (their `cid:`)."""
    wanted = {source.removeprefix(PASTED_PREFIX) for source in markdown.image_sources(body)
              if source.startswith(PASTED_PREFIX)}
    if not wanted:
        return [], {}
    files, sources = [], {}
    for image in PastedImage.objects.filter(agent=agent, item=item, token__in=wanted):
        content_id = f"{image.token}@deskhand"
        with image.file.open("rb") as handle:
            files.append(NewAttachment(name=image.name, content=handle.read(), content_type=image.content_type,
                                       inline=True, content_id=content_id))
        sources[f"{PASTED_PREFIX}{image.token}"] = f"cid:{content_id}"
    return files, sources


def _forget_pasted(agent: Agent, item: Item, *, tokens: Sequence[str] | None = None) -> None:
    """The agent's pasted images on `item` (only `tokens`, when given) are gone, their files after commit."""
    rows = PastedImage.objects.filter(agent=agent, item=item)
    if tokens is not None:
        rows = rows.filter(token__in=list(tokens))
    names = [str(row.file.name) for row in rows]
    PastedImage.objects.filter(pk__in=[row.pk for row in rows]).delete()
    if names:
        storage = PastedImage.file.field.storage
        transaction.on_commit(partial(_delete_files, storage, names))


def _delete_files(storage: Any, names: list[str]) -> None:
    for name in names:
        storage.delete(name)


@transaction.atomic
def send_reply(item: Item, *, reply: Reply, actor: Actor, kind: str = MessageKind.REPLY, draft: bool = True
               ) -> Message:
    """A reply (or, with `kind`, a note) written in Markdown: stored and sent as that text and as
    sanitized HTML, a reply with the agent's signature below and its Cc and Bcc, the pasted images
    inline; then the status `reply.then` names (the first of that category), and the agent's draft
    on the item is gone. One transaction: a refused address or status sends nothing."""
    agent = _agent(actor)
    if not isinstance(reply.body, str) or (not reply.body.strip() and not reply.attachments):
        raise Invalid("body_required", gettext("Write a message or attach a file."), field="body")
    if len(reply.body) > MAX_BODY:
        raise Invalid("body_too_long", f"A message has at most {MAX_BODY:,} characters.", field="body")
    body = reply.body.strip()
    if kind == MessageKind.REPLY and reply.signature and agent.signature.strip():
        body = f"{body}\n\n{agent.signature.strip()}"
    status = then_status(item.kind, reply.then) if reply.then else None
    inline, sources = _pasted(agent, item, body)
    html = markdown.to_html(markdown.replace_image_sources(body, sources))
    message = add_message(item, kind=kind, body=markdown.to_text(body), body_html=html,
                          attachments=[*reply.attachments, *inline], cc=reply.cc if kind == MessageKind.REPLY else (),
                          bcc=reply.bcc if kind == MessageKind.REPLY else (), actor=actor)
    if status is not None and status.pk != Item.objects.filter(pk=item.pk).values_list("status_id", flat=True)[0]:
        change_item(item, changes=ItemChanges(status=status.key), actor=actor)
    if draft and kind == MessageKind.REPLY:  # the reply box is empty again
        ReplyDraft.objects.filter(agent=agent, item=item).delete()
        _forget_pasted(agent, item)
    elif inline:
        _forget_pasted(agent, item, tokens=[url.removeprefix(PASTED_PREFIX) for url in sources])
    return message


def save_draft(item: Item, *, draft: Draft, actor: Actor) -> ReplyDraft | None:
    """Keep what the agent is typing on `item` (an empty box: no draft)."""
    agent = _agent(actor)
    body = clean_text(draft.body, field="body", max_length=MAX_BODY, multiline=True)
    cc = clean_text(draft.cc, field="cc", max_length=MAX_DRAFT_COPIES)
    bcc = clean_text(draft.bcc, field="bcc", max_length=MAX_DRAFT_COPIES)
    if not (body or cc or bcc):
        ReplyDraft.objects.filter(agent=agent, item=item).delete()
        return None
    row, _created = ReplyDraft.objects.update_or_create(agent=agent, item=item,
                                                        defaults={"body": body, "cc": cc, "bcc": bcc})
    return row


def _image_type(head: bytes) -> str:
    return next((kind for magic, kind in IMAGE_TYPES.items() if head.startswith(magic)), "")


@transaction.atomic
def paste_image(item: Item, *, name: str, content: bytes, actor: Actor) -> PastedImage:
    """An image pasted into the reply box on `item`, kept for its author until the reply is sent.
    PNG, JPEG or GIF (by their bytes), at most MAX_IMAGE_BYTES and the attachment limit."""
    agent = _agent(actor)
    limit = min(MAX_IMAGE_BYTES, int(get_settings()["attachment_max_bytes"]))
    if len(content) > limit:
        raise Invalid("image_too_large", gettext("A pasted image has at most %(limit)s MB.") % {"limit": limit // (1024 * 1024)}, field="image")
    content_type = _image_type(content[:8])
    if not content_type:
        raise Invalid("not_an_image", gettext("Paste a PNG, JPEG or GIF image."), field="image")
    old = PastedImage.objects.filter(agent=agent, created_at__lt=timezone.now() - PASTED_KEPT)
    if old.exists():
        storage, names = PastedImage.file.field.storage, [str(name) for name in old.values_list("file", flat=True)]
        old.delete()
        transaction.on_commit(partial(_delete_files, storage, names))
    if PastedImage.objects.filter(agent=agent, item=item).count() >= MAX_PASTED:
        raise Invalid("too_many_images", gettext("Paste at most %(value)s images into one reply.") % {"value": MAX_PASTED}, field="image")
    extension = content_type.rpartition("/")[2].replace("jpeg", "jpg")
    stem = re.sub(r"[^\w-]+", "-", (name or "").rpartition(".")[0] or name or "").strip("-")[:60] or "pasted-image"
    image = PastedImage(agent=agent, item=item, token=secrets.token_hex(16), name=f"{stem}.{extension}",
                        content_type=content_type, size=len(content))
    image.file.save(f"{image.token}.{extension}", ContentFile(content), save=False)
    image.save()
    return image
