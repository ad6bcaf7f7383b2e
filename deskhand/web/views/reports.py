"""Reports: the dashboard; tickets created and solved, response times and the backlog for a period
(charts drawn here as inline SVG: no chart library, nothing from a CDN); SLA breaches and
attainment; satisfaction. Each with CSV."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext, gettext_lazy, pgettext
from django.views.decorators.http import require_GET

from deskhand.core.csvsafe import csv_lines
from deskhand.core.errors import DomainError
from deskhand.reports import queries as report_queries
from deskhand.reports.inputs import (
    GroupBy,
    Preset,
    ReportPeriod,
    parse_group_by,
    parse_kind,
    parse_period,
    period_preset,
    preset_period,
)
from deskhand.sla.queries import REPORT_BY, report_rows, sla_report
from deskhand.surveys import queries as survey_queries
from deskhand.web.access import agent_required
from deskhand.web.http import AgentRequest
from deskhand.web.templatetags.words import status_label

# How many groups a page shows (largest first); the CSV and the API have all of them.
SHOWN_GROUPS = 20
CHART_WIDTH, CHART_HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 200, 44, 22, 10


def _zone(request: AgentRequest) -> str:
    return getattr(request.user, "time_zone", "") or settings.TIME_ZONE


def duration(seconds: float | None) -> str:
    """A duration as people read it: 45 min, 3 h 20 min, 2 d 5 h."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _nice_top(value: int) -> int:
    """The y axis' top: 1, 2 or 5 times a power of ten, at least `value`."""
    top = 1
    while True:
        for factor in (1, 2, 5):
            if top * factor >= value:
                return top * factor
        top *= 10


def line_chart(days: Sequence[datetime.date], series: Sequence[tuple[str, str, Sequence[int]]]) -> dict[str, Any]:
    """Polylines of daily counts: (name, css class, values) each; axis labels at the ends and middle."""
    top = _nice_top(max([max(values, default=0) for _name, _css, values in series] + [1]))
    inner_w, inner_h = CHART_WIDTH - PAD_LEFT - 8, CHART_HEIGHT - PAD_BOTTOM - PAD_TOP
    step = inner_w / max(1, len(days) - 1)

    def point(index: int, value: int) -> str:
        return f"{PAD_LEFT + index * step:.1f},{PAD_TOP + inner_h - inner_h * value / top:.1f}"

    lines = [{"name": name, "css": css, "points": " ".join(point(i, v) for i, v in enumerate(values)),
              "dots": [] if len(days) > 62 else [{"x": point(i, v).split(",")[0], "y": point(i, v).split(",")[1],
                                                   "title": f"{days[i].isoformat()}: {v} {name.lower()}"}
                                                  for i, v in enumerate(values)]}
             for name, css, values in series]
    marks = sorted({0, len(days) // 2, len(days) - 1}) if days else []
    anchors = {0: "start", len(days) - 1: "end"}
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": PAD_LEFT, "right": CHART_WIDTH - 8,
            "bottom": PAD_TOP + inner_h, "top_y": PAD_TOP, "top": top, "mid": top // 2 if top >= 2 else None,
            "mid_y": PAD_TOP + inner_h / 2, "lines": lines,
            "x_labels": [{"x": f"{PAD_LEFT + i * step:.1f}", "label": dateformat.format(days[i], "j M"),
                          "anchor": anchors.get(i, "middle") if len(days) > 1 else "middle"} for i in marks],
            "label_y": CHART_HEIGHT - 6}


BAR_ROW, BAR_LEFT, BAR_SPAN = 22, 190, 350


def bars(rows: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """Horizontal bars in SVG units: a label, a bar as long as its share of the longest, the value."""
    longest = max([value for _label, value in rows] + [1])
    return {"height": max(1, len(rows)) * BAR_ROW, "bar_left": BAR_LEFT, "value_x": BAR_LEFT + BAR_SPAN + 50,
            "rows": [{"label": label, "value": value, "y": index * BAR_ROW, "text_y": index * BAR_ROW + 15,
                      "width": round(BAR_SPAN * value / longest, 1)} for index, (label, value) in enumerate(rows)]}


def _query(period: ReportPeriod, group_by: GroupBy, kind: str = "ticket") -> str:
    return urlencode({"from": period.start.isoformat(), "to": period.end.isoformat(), "tz": period.time_zone,
                      "group_by": group_by.value, "kind": kind})


def _inputs(request: AgentRequest) -> tuple[ReportPeriod, GroupBy, str, dict[str, str]]:
    """The period and grouping the page asks for; a bad value falls back to the default, with the
    message shown next to its field."""
    errors: dict[str, str] = {}
    data = request.GET
    try:
        group_by = parse_group_by(data.get("group_by"))
    except DomainError as exc:
        errors[exc.field or "group_by"] = exc.message
        group_by = GroupBy.NONE
    try:
        kind = parse_kind(data.get("kind"))
    except DomainError as exc:
        errors[exc.field or "kind"] = exc.message
        kind = "ticket"
    try:
        period = parse_period(start=data.get("from"), end=data.get("to"), time_zone=data.get("tz"),
                              preset=data.get("preset"), now=timezone.now(), default_zone=_zone(request))
    except DomainError as exc:
        errors[exc.field or "from"] = exc.message
        period = parse_period(start=None, end=None, time_zone=None, now=timezone.now(), default_zone=_zone(request))
    return period, group_by, kind, errors


def _items(kind: str) -> str:
    return gettext("tasks") if kind == "task" else gettext("tickets")


@require_GET
@agent_required
def overview(request: AgentRequest) -> HttpResponse:
    """/reports: the period and grouping pickers, then volume, response times and backlog."""
    period, group_by, kind, errors = _inputs(request)
    volume = report_queries.volume(period, group_by, kind=kind)
    times = report_queries.response_times(period, group_by, kind=kind)
    backlog = report_queries.backlog(period, group_by, kind=kind)
    days = [day.day for day in volume.days]
    status = 422 if errors else 200
    return render(request, "web/reports/overview.html", {
        "period": period, "group_by": group_by, "errors": errors, "query": _query(period, group_by, kind),
        "kind": kind, "kinds": {"ticket": gettext("Tickets"), "task": gettext("Tasks")}, "items": _items(kind),
        "volume_title": gettext("Tasks created and solved per day") if kind == "task"
        else gettext("Tickets created and solved per day"),
        "volume_desc": gettext("Two lines over the days of the period: %(items)s created and solved each day. "
                               "The table below has the numbers.") % {"items": _items(kind)},
        "preset": period_preset(period, now=timezone.now()), "presets": list(Preset),
        "groupings": list(GroupBy), "volume": volume, "times": times, "backlog": backlog,
        "volume_chart": line_chart(days, [(gettext("Created"), "line-created", [d.created for d in volume.days]),
                                          (gettext("Solved"), "line-solved", [d.solved for d in volume.days])]),
        "open_chart": line_chart(days, [(pgettext("open tickets", "Open"), "line-open", [d.open for d in backlog.days])]),
        "status_bars": bars([(status_label(s), s.count) for s in backlog.statuses]),
        "volume_groups": bars([(row.label, row.created) for row in volume.groups[:SHOWN_GROUPS]]),
        "volume_rows": volume.groups[:SHOWN_GROUPS], "more_groups": max(0, len(volume.groups) - SHOWN_GROUPS),
        "time_rows": [_time_row(row) for row in [times.total, *times.groups[:SHOWN_GROUPS]]],
        "backlog_rows": [{"label": row.label, "counts": [row.counts.get(s.key, 0) for s in backlog.statuses],
                          "total": row.total} for row in backlog.groups[:SHOWN_GROUPS]],
        "group_label": group_by.label,
    }, status=status)


def _time_row(row: report_queries.TimesRow) -> dict[str, Any]:
    return {"label": row.label, "tickets": row.tickets, "first_count": row.first_response.count,
            "first_median": duration(row.first_response.median), "first_p90": duration(row.first_response.p90),
            "solved": row.resolution.count, "resolution_median": duration(row.resolution.median),
            "resolution_p90": duration(row.resolution.p90)}


CSV_REPORTS: dict[str, Callable[[ReportPeriod, GroupBy, str], Iterator[list[Any]]]] = {
    "volume": lambda period, group_by, kind: report_queries.volume_rows(
        report_queries.volume(period, group_by, kind=kind)),
    "response-times": lambda period, group_by, kind: report_queries.response_time_rows(
        report_queries.response_times(period, group_by, kind=kind)),
    "backlog": lambda period, group_by, kind: report_queries.backlog_rows(
        report_queries.backlog(period, group_by, kind=kind)),
}


@require_GET
@agent_required
def report_csv(request: AgentRequest, report: str) -> HttpResponse | StreamingHttpResponse:
    """One report as a CSV file, spreadsheet-safe (csvsafe), for the page's period and grouping."""
    period, group_by, kind, errors = _inputs(request)
    if errors or report not in CSV_REPORTS:
        return HttpResponse("; ".join(f"{field}: {message}" for field, message in errors.items())
                            or "No such report.", status=422 if errors else 404, content_type="text/plain")
    response = StreamingHttpResponse(csv_lines(CSV_REPORTS[report](period, group_by, kind)),
                                     content_type="text/csv; charset=utf-8")
    name = ("tasks-" if kind == "task" else "") + f"{report}-{period.start.isoformat()}-{period.end.isoformat()}" + (
        f"-by-{group_by.value}" if group_by != GroupBy.NONE else "")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@require_GET
@agent_required
def dashboard(request: AgentRequest) -> HttpResponse:
    """Today's headline numbers, each a link to the ticket list that shows them."""
    numbers = report_queries.headline(request.user, time_zone=_zone(request))
    lists = reverse("web:ticket-list")
    links = {name: f"{lists}?{urlencode(filters.as_query())}"
             for name, filters in report_queries.headline_filters(request.user).items()}
    zone = _zone(request)
    week = preset_period(Preset.LAST_7, today=timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date(),
                         time_zone=zone)
    links["week"] = f"{reverse('web:reports')}?{_query(week, GroupBy.NONE)}"
    days = [day.day for day in numbers.days]
    return render(request, "web/reports/dashboard.html", {
        "numbers": numbers, "links": links, "first_response": duration(numbers.first_response_median_7d),
        "week_chart": line_chart(days, [("Created", "line-created", [d.created for d in numbers.days]),
                                        ("Solved", "line-solved", [d.solved for d in numbers.days])]),
    })

BY_LABELS = {"organization": gettext_lazy("Organization"), "agent": gettext_lazy("Agent"), "month": gettext_lazy("Month")}


def _by(request: AgentRequest) -> str:
    by = request.GET.get("by", "organization")
    return by if by in REPORT_BY else "organization"


@require_GET
@agent_required
def sla(request: AgentRequest) -> HttpResponse:
    by = _by(request)
    return render(request, "web/reports/sla.html", {"by": by, "by_labels": BY_LABELS, "by_label": BY_LABELS[by],
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
