from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext

from deskhand.core.errors import NotFound
from deskhand.fields.models import CustomField


def custom_field_list(*, applies_to: str | None = None) -> QuerySet[CustomField]:
    fields = CustomField.objects.all()
    return fields.filter(applies_to=applies_to) if applies_to else fields


def get_custom_field(field_id: int) -> CustomField:
    field = CustomField.objects.filter(pk=field_id).first()
    if field is None:
        raise NotFound("custom_field_not_found", gettext("No custom field with id %(field_id)s.") % {"field_id": field_id})
    return field

