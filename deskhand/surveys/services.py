"""Sending satisfaction surveys and recording the answers; the roll-ups are in queries."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from deskhand.audit.services import record_many
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Invalid, NotFound
from deskhand.core.text import clean_text
from deskhand.mail.outbound import NewOutbound, queue_outbound
from deskhand.surveys.models import Rating, SurveyRequest
from deskhand.work.models import Assignee, Item
from deskhand.work.services._common import item_event

VALID_DAYS = 14
SALT = "deskhand.survey"
MAX_COMMENT = 2_000


class LinkExpired(NotFound):
    status = 410


def survey_token(survey: SurveyRequest) -> str:
    return signing.dumps(survey.pk, salt=SALT, compress=True)


def survey_url(survey: SurveyRequest, rating: str = "") -> str:
    path = reverse("survey", kwargs={"token": survey_token(survey)})
    return f"{settings.PUBLIC_ORIGIN}{path}" + (f"?rating={rating}" if rating else "")


def send_surveys(items: Sequence[Item], *, actor: Actor) -> list[SurveyRequest]:
    """A survey to each item's requester, for the agent assigned now; none for an item without
    a requester. Queued as mail in the caller's transaction."""
    items = [item for item in items if item.requester_id is not None]
    agents = dict(Assignee.objects.filter(item__in=items, agent__isnull=False).order_by("-id")
                  .values_list("item_id", "agent_id"))
    expires = timezone.now() + datetime.timedelta(days=VALID_DAYS)
    surveys = SurveyRequest.objects.bulk_create([
        SurveyRequest(item=item, customer_id=item.requester_id, organization_id=item.organization_id,
                      agent_id=agents.get(item.pk), expires_at=expires) for item in items])
    queue_outbound([NewOutbound(kind="survey", item=survey.item, to=[survey.item.requester.email], auto=True,
                                language=survey.item.requester.language,
                                context={"links": [(rating.label, survey_url(survey, rating.value))
                                                   for rating in Rating], "page": survey_url(survey),
                                         "days": VALID_DAYS})
                    for survey in surveys if survey.item.requester is not None])
    record_many([item_event(survey.item, "survey.sent", actor=actor, changes={"to": survey.item.requester.email})
                 for survey in surveys if survey.item.requester is not None])
    return surveys


def open_survey(token: str, *, now: datetime.datetime | None = None) -> SurveyRequest:
    """The survey a link names; a tampered link is Invalid, an expired one LinkExpired (410)."""
    try:
        survey_id = signing.loads(token[:500], salt=SALT)
    except signing.BadSignature:
        raise Invalid("bad_link", _("This survey link is not valid. Use the link from the mail as it came."),
                      field="token") from None
    survey = SurveyRequest.objects.select_related("item", "item__requester").filter(pk=survey_id).first()
    if survey is None:
        raise NotFound("survey_gone", _("This survey no longer exists."))
    if (now or timezone.now()) >= survey.expires_at:
        raise LinkExpired("survey_expired", _("This survey has closed; thank you all the same."))
    return survey


def answer_survey(survey: SurveyRequest, *, rating: str, comment: str | None = None,
                  now: datetime.datetime | None = None) -> SurveyRequest:
    """Record (or change) the answer; the comment stays unless a new one is given."""
    if rating not in Rating.values:
        raise Invalid("invalid_rating", _("Choose one of the ratings."), field="rating")
    now = now or timezone.now()
    if now >= survey.expires_at:
        raise Conflict("survey_expired", _("This survey has closed."), field="rating")
    changed = survey.rating != rating or (comment is not None and comment.strip() != survey.comment)
    survey.rating = rating
    if comment is not None:
        survey.comment = clean_text(comment, field="comment", max_length=MAX_COMMENT, multiline=True)
    survey.answered_at = now
    survey.save(update_fields=["rating", "comment", "answered_at"])
    if changed:
        record_many([item_event(survey.item, "survey.answered", actor=Actor.customer(
            survey.item.requester.email if survey.item.requester else "customer"),
            changes={"rating": rating, "comment": survey.comment})])
    return survey
