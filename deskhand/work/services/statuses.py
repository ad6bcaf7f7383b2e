"""The workflow of tickets and of tasks: admins add, rename, reorder and remove statuses."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from deskhand.audit.services import record
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Forbidden, Invalid
from deskhand.core.inputs import UNSET
from deskhand.core.text import clean_text
from deskhand.work.inputs import StatusChanges
from deskhand.work.models import Category, Item, Kind, Status
from deskhand.work.services._common import resolve_kind

BUILT_IN = ("new", "open", "pending", "done")
DEFAULT_WORKFLOW = [("new", "New", Category.NEW), ("open", "Open", Category.OPEN),
                    ("pending", "Pending", Category.PENDING), ("done", "Done", Category.DONE)]
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("admin_required", gettext("Only an administrator can change the workflow."))


def _category(value: str) -> str:
    if value not in Category.values:
        raise Invalid("invalid_category", f"Category is one of {', '.join(Category.values)}.", field="category")
    return str(value)


def _next_position(kind: str) -> int:
    last = Status.objects.filter(kind=kind).order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1


def ensure_default_workflow() -> int:
    """Put back any built-in status that is missing (the migration seeds them; a flushed database,
    as tests that commit leave behind, has none). Returns how many were created."""
    existing = set(Status.objects.values_list("kind", "key"))
    missing = [Status(kind=kind, key=key, label=label, category=category, position=position)
               for kind in Kind.values for position, (key, label, category) in enumerate(DEFAULT_WORKFLOW)
               if (kind, key) not in existing]
    Status.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


@transaction.atomic
def create_status(*, kind: str, key: str, label: str, category: str, actor: Actor) -> Status:
    _require_admin(actor)
    kind = resolve_kind(kind)
    if not KEY_PATTERN.fullmatch(key):
        raise Invalid("invalid_key", gettext("A status key is lower-case letters, digits and _, starting with a letter."),
                      field="key")
    status = Status(kind=kind, key=key, label=clean_text(label, field="label", max_length=60, required=True),
                    category=_category(category), position=_next_position(kind))
    try:
        with transaction.atomic():
            status.save()
    except IntegrityError:
        raise Conflict("status_exists", gettext("The %(kind)s workflow already has a status “%(key)s”.") % {"kind": kind, "key": key}, field="key") from None
    record(actor=actor, action="status.created", object_type="status", object_id=status.pk, object_label=str(status),
           changes={"label": status.label, "category": status.category})
    return status


@transaction.atomic
def update_status(status: Status, *, changes: StatusChanges, actor: Actor) -> Status:
    _require_admin(actor)
    before = {"label": status.label, "category": status.category, "position": status.position}
    if changes.label is not UNSET:
        status.label = clean_text(changes.label, field="label", max_length=60, required=True)
    if changes.category is not UNSET:
        if status.key in BUILT_IN and changes.category != status.category:
            raise Invalid("built_in_status", gettext("“%(key)s” always means %(category)s.") % {"key": status.key, "category": status.category}, field="category")
        status.category = _category(changes.category)
    if changes.position is not UNSET:
        if changes.position < 0:
            raise Invalid("invalid_position", gettext("Position is a whole number from 0."), field="position")
        status.position = changes.position
    status.save()
    after = {"label": status.label, "category": status.category, "position": status.position}
    changed = {key: {"old": before[key], "new": value} for key, value in after.items() if before[key] != value}
    if changed:
        record(actor=actor, action="status.updated", object_type="status", object_id=status.pk,
               object_label=str(status), changes=changed)
    return status


@transaction.atomic
def delete_status(status: Status, *, actor: Actor) -> None:
    _require_admin(actor)
    if status.key in BUILT_IN:
        raise Conflict("built_in_status", gettext("“%(label)s” is part of every workflow and cannot be removed.") % {"label": status.label},
                       field="key")
    if Item.objects.filter(status=status).exists():
        raise Conflict("status_in_use", gettext("Items are in “%(label)s”; move them to another status first.") % {"label": status.label},
                       field="key")
    record(actor=actor, action="status.deleted", object_type="status", object_id=status.pk, object_label=str(status))
    status.delete()
