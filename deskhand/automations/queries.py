"""Reads of automations."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from deskhand.automations.models import Automation
from deskhand.automations.planner import LoadedRule
from deskhand.automations.stored import rule_from_json
from deskhand.core.errors import NotFound


def automation_list(*, item_kind: str = "", search: str = "") -> QuerySet[Automation]:
    queryset = Automation.objects.all()
    if item_kind:
        queryset = queryset.filter(item_kind=item_kind)
    if search:
        queryset = queryset.filter(name__icontains=search[:200])
    return queryset.order_by("item_kind", "position", "id")


def get_automation(automation_id: int) -> Automation:
    row = Automation.objects.filter(pk=automation_id).first()
    if row is None:
        raise NotFound("automation_not_found", gettext("No automation with id %(automation_id)s.") % {"automation_id": automation_id})
    return row


def routing_of(organization_id: int) -> Automation | None:
    return Automation.objects.filter(organization_id=organization_id, routing=True).first()


def loaded(row: Automation) -> LoadedRule:
    return LoadedRule(row.pk, rule_from_json(name=row.name, item_kind=row.item_kind, trigger=row.trigger,
                                             conditions=row.conditions, actions=row.actions, enabled=row.enabled))


# Rules as parsed, by id, with the version they were parsed from. Every new ticket reads the
# rules that may fire for it; parsing 200 of them from JSON cost more than the rest of the request.
# A rule's stored shape changes only through a save, which moves `updated_at` (and `enabled` is
# also switched by a plain update), so an entry whose version matches is never stale. Each process
# keeps its own; it is a memo of a pure function, not state the results depend on.
_PARSED: dict[int, tuple[tuple[datetime.datetime, bool], LoadedRule]] = {}
MAX_PARSED = 50_000


def rules_for(kinds: Iterable[str], organization_ids: Iterable[int | None]) -> list[LoadedRule]:
    """The enabled rules of these item kinds that are not pinned to an organization, and those
    pinned to one of these: an indexed read, however many organizations have routing."""
    organizations = [pk for pk in set(organization_ids) if pk is not None]
    pinned = Q(organization__isnull=True) | Q(organization_id__in=organizations) if organizations else Q(
        organization__isnull=True)
    versions = list(Automation.objects.filter(pinned, item_kind__in=set(kinds), enabled=True)
                    .order_by("position", "id").values_list("pk", "updated_at", "enabled"))
    stale = {pk for pk, updated_at, enabled in versions
             if pk not in _PARSED or _PARSED[pk][0] != (updated_at, enabled)}
    if stale:
        if len(_PARSED) + len(stale) > MAX_PARSED:
            _PARSED.clear()
        for pk in stale:
            _PARSED.pop(pk, None)  # deleted between the two reads: gone from the answer too
        for row in Automation.objects.filter(pk__in=stale):
            _PARSED[row.pk] = ((row.updated_at, row.enabled), loaded(row))
    return [_PARSED[pk][1] for pk, _updated_at, _enabled in versions if pk in _PARSED]
