"""Survey answers and their roll-ups (per organization, agent and month)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from deskhand.surveys.models import Rating, SurveyRequest
from deskhand.work.models import Item


def survey_list(*, organization: int | None = None, agent: int | None = None,
                answered: bool | None = None) -> QuerySet[SurveyRequest]:
    surveys = SurveyRequest.objects.select_related("item", "customer", "organization", "agent")
    if organization is not None:
        surveys = surveys.filter(organization_id=organization)
    if agent is not None:
        surveys = surveys.filter(agent_id=agent)
    if answered is not None:
        surveys = surveys.exclude(rating="") if answered else surveys.filter(rating="")
    return surveys.order_by("-sent_at", "-id")


def _counts(surveys: QuerySet[SurveyRequest]) -> dict[str, Any]:
    return surveys.aggregate(sent=Count("id"), good=Count("id", filter=Q(rating=Rating.GOOD)),
                             okay=Count("id", filter=Q(rating=Rating.OKAY)),
                             bad=Count("id", filter=Q(rating=Rating.BAD)))


def score(counts: Mapping[str, Any]) -> float | None:
    """The share of good answers among the answers, in percent (None without answers)."""
    answered = counts["good"] + counts["okay"] + counts["bad"]
    return round(100 * counts["good"] / answered, 1) if answered else None


def summary(surveys: QuerySet[SurveyRequest]) -> dict[str, Any]:
    counts = _counts(surveys.order_by())
    return {**counts, "answered": counts["good"] + counts["okay"] + counts["bad"], "score": score(counts)}


def by_month(surveys: QuerySet[SurveyRequest]) -> list[dict[str, Any]]:
    rows = (surveys.order_by().annotate(month=TruncMonth("sent_at")).values("month")
            .annotate(sent=Count("id"), good=Count("id", filter=Q(rating=Rating.GOOD)),
                      okay=Count("id", filter=Q(rating=Rating.OKAY)), bad=Count("id", filter=Q(rating=Rating.BAD)))
            .order_by("month"))
    return [{"month": row["month"].strftime("%Y-%m"), "sent": row["sent"], "good": row["good"], "okay": row["okay"],
             "bad": row["bad"], "score": score(row)} for row in rows]


def latest_answer(item: Item) -> SurveyRequest | None:
    """The item's latest answered survey, for its page."""
    return SurveyRequest.objects.filter(item=item).exclude(rating="").order_by("-answered_at").first()


def by_group(surveys: QuerySet[SurveyRequest], by: str) -> list[dict[str, Any]]:
    """Answers per organization or per agent (the agent assigned when the survey was sent)."""
    key = {"organization": "organization__name", "agent": "agent__email"}[by]
    rows = (surveys.order_by().values(key)
            .annotate(sent=Count("id"), good=Count("id", filter=Q(rating=Rating.GOOD)),
                      okay=Count("id", filter=Q(rating=Rating.OKAY)), bad=Count("id", filter=Q(rating=Rating.BAD)))
            .order_by(key))
    return [{"key": row[key] or ("No organization" if by == "organization" else "Nobody"), "sent": row["sent"],
             "good": row["good"], "okay": row["okay"], "bad": row["bad"], "score": score(row)} for row in rows]
