"""Reports: SLA breaches and attainment per organization, agent and month, with CSV."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from deskhand.core.csvsafe import csv_lines
from deskhand.sla.queries import REPORT_BY, report_rows, sla_report
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
