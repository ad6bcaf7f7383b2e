"""Reports: SLA breaches and attainment per organization, agent and month, with CSV."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from deskhand.core.csvsafe import csv_lines
from deskhand.sla.queries import REPORT_BY, report_rows, sla_report
from deskhand.surveys import queries as survey_queries
from deskhand.web.access import agent_required
from deskhand.web.http import AgentRequest

BY_LABELS = {"organization": "Organization", "agent": "Agent", "month": "Month"}


def _by(request: AgentRequest) -> str:
    by = request.GET.get("by", "organization")
    return by if by in REPORT_BY else "organization"


@require_GET
@agent_required
def sla(request: AgentRequest) -> HttpResponse:
    by = _by(request)
    return render(request, "web/reports/sla.html", {"by": by, "by_labels": BY_LABELS, "by_label": BY_LABELS[by].lower(),
                                                    "by_header": BY_LABELS[by],
                                                    "rows": sla_report(by)})


@require_GET
@agent_required
def sla_csv(request: AgentRequest) -> StreamingHttpResponse:
    by = _by(request)
    response = StreamingHttpResponse(csv_lines(report_rows(sla_report(by))), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sla-by-{by}.csv"'
    return response


def _bars(months: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stacked bars of good / okay / bad answers per month, in SVG units (server-drawn: no chart
    library, nothing from a CDN)."""
    tallest = max([m["good"] + m["okay"] + m["bad"] for m in months] + [1])
    bars = []
    for index, month in enumerate(months[-12:]):
        x, y = 40 + index * 56, 140
        parts = []
        for name in ("good", "okay", "bad"):
            height = round(110 * month[name] / tallest)
            y -= height
            parts.append({"name": name, "y": y, "height": height, "count": month[name]})
        bars.append({"x": x, "label": month["month"], "parts": parts, "score": month["score"]})
    return bars


@require_GET
@agent_required
def satisfaction(request: AgentRequest) -> HttpResponse:
    surveys = survey_queries.survey_list()
    months = survey_queries.by_month(surveys)
    return render(request, "web/reports/satisfaction.html", {
        "summary": survey_queries.summary(surveys), "months": months, "bars": _bars(months),
        "width": 60 + 56 * len(months[-12:]),
        "organizations": survey_queries.by_group(surveys, "organization"),
        "agents": survey_queries.by_group(surveys, "agent")})
