"""Reads of replying: an agent's canned responses and macros (the shared ones and their own),
the draft on an item, the statuses "Send and set" sets, and the copies a reply went to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from deskhand.agents.models import Agent
from deskhand.core.errors import Invalid, NotFound
from deskhand.mail.models import OutboundMessage
from deskhand.replies.models import CannedResponse, Macro, PastedImage, ReplyDraft
from deskhand.work.models import Category, Item, Kind, Status

THEN_CATEGORIES = (Category.PENDING, Category.DONE)


def canned_list(agent_id: int | None, *, search: str = "") -> QuerySet[CannedResponse]:
    rows = CannedResponse.objects.visible_to(agent_id)
    if search:
        rows = rows.filter(Q(title__icontains=search) | Q(shortcut__icontains=search.lstrip(";")))
    return rows.order_by("title", "id")


def get_canned_for_agent(agent_id: int | None, canned_id: int) -> CannedResponse:
    row = CannedResponse.objects.visible_to(agent_id).filter(pk=canned_id).first()
    if row is None:
        raise NotFound("canned_response_not_found", gettext("No canned response with id %(canned_id)s.") % {"canned_id": canned_id})
    return row


def macro_list(agent_id: int | None, *, search: str = "") -> QuerySet[Macro]:
    rows = Macro.objects.visible_to(agent_id)
    if search:
        rows = rows.filter(name__icontains=search)
    return rows.order_by("name", "id")


def get_macro_for_agent(agent_id: int | None, macro_id: int) -> Macro:
    row = Macro.objects.visible_to(agent_id).filter(pk=macro_id).first()
    if row is None:
        raise NotFound("macro_not_found", gettext("No macro with id %(macro_id)s.") % {"macro_id": macro_id})
    return row


def draft_for(agent_id: int, item_id: int) -> ReplyDraft | None:
    return ReplyDraft.objects.filter(agent_id=agent_id, item_id=item_id).first()


def pasted_image_for_agent(agent_id: int, token: str) -> PastedImage:
    row = PastedImage.objects.filter(agent_id=agent_id, token=token[:32]).first()
    if row is None:
        raise NotFound("image_not_found", gettext("No such pasted image."))
    return row


def then_statuses(kind: str) -> dict[str, Status]:
    """The status "Send and set Pending" (or Done) sets: the first of its category in the workflow."""
    found: dict[str, Status] = {}
    for status in Status.objects.filter(kind=kind, category__in=THEN_CATEGORIES).order_by("position", "id"):
        found.setdefault(status.category, status)
    return found


def then_status(kind: str, category: str) -> Status:
    status = then_statuses(kind).get(category) if category in THEN_CATEGORIES else None
    if status is None:
        raise Invalid("unknown_then", f"There is no {category or 'such'} status to set after sending.", field="then")
    return status


def copies_for_messages(message_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The Cc and Bcc each reply went to, from its outbox row: {message id: {"cc": [...], "bcc": [...]}}."""
    if not message_ids:
        return {}
    copies: dict[int, dict[str, Any]] = {}
    for message_id, headers in OutboundMessage.objects.filter(message_id__in=message_ids, kind="reply").values_list(
            "message_id", "headers"):
        headers = headers or {}
        cc = [address.strip() for address in str(headers.get("Cc") or "").split(",") if address.strip()]
        if message_id is not None and (cc or headers.get("bcc")):
            copies[message_id] = {"cc": cc, "bcc": list(headers.get("bcc") or [])}
    return copies


MAX_LISTED = 500  # canned responses and macros offered in one reply box


@dataclass(frozen=True)
class ReplyBox:
    """What the item page's reply box offers this agent on this item."""

    canned: list[dict[str, Any]]
    macros: list[Macro]
    draft: ReplyDraft | None
    then: dict[str, Status]
    signature: str


def reply_box(agent: Agent, item: Item) -> ReplyBox:
    canned = [{"id": pk, "title": title, "shortcut": shortcut} for pk, title, shortcut in
              canned_list(agent.pk).values_list("id", "title", "shortcut")[:MAX_LISTED]]
    macros = list(macro_list(agent.pk)[:MAX_LISTED]) if item.kind == Kind.TICKET else []
    return ReplyBox(canned=canned, macros=macros, draft=draft_for(agent.pk, item.pk), then=then_statuses(item.kind),
                    signature=agent.signature.strip())
