"""Satisfaction survey answers with their roll-ups."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from deskhand.api.pagination import ListParams, paginate
from deskhand.api.schemas import SurveyListOut
from deskhand.core.numbers import MAX_ID
from deskhand.surveys import queries

router = Router(tags=["surveys"])


class SurveyParams(ListParams):
    organization: int | None = Field(None, ge=1, le=MAX_ID, description="An organization's id.")
    agent: int | None = Field(None, ge=1, le=MAX_ID,
                              description="The agent the answer counts for (assigned when it was sent).")
    answered: bool | None = None


@router.get("/surveys", response=SurveyListOut)
def list_surveys(request: HttpRequest, params: Query[SurveyParams]) -> dict[str, Any]:
    surveys = queries.survey_list(organization=params.organization, agent=params.agent, answered=params.answered)
    return {**paginate(surveys, params), "summary": queries.summary(surveys), "months": queries.by_month(surveys)}
