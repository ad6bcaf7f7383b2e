"""GET /metrics in Prometheus's text format.

Two kinds of figures: the help desk's state, read from the database and the queue at each scrape
(so every web process answers the same: mail by status, the outbox backlog, queue depth and age),
and the web processes' own request counts and latencies. `deskhand web` runs several processes;
it points prometheus_client at a directory (PROMETHEUS_MULTIPROC_DIR) where each writes its
figures, and a scrape of any one adds them all up.

Who may read it: with DESKHAND_METRICS_TOKEN set, a request with `Authorization: Bearer <token>`;
without, only a direct request from this machine or a private network (not one relayed by a
proxy, which would make every visitor look local).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable

from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from deskhand.conf import conf
from deskhand.mail.models import InboundEmail, InboundStatus, OutboundMessage, OutboundStatus
from deskhand.system.health import queue_state

REQUESTS = Counter("deskhand_http_requests", "HTTP requests answered, by area and status class",
                   ["area", "status"])
LATENCY = Histogram("deskhand_http_request_duration_seconds", "Time to answer an HTTP request, by area",
                    ["area"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
AREAS = ("api", "portal", "widget", "static", "healthz", "metrics", "inbound")


def _area(path: str) -> str:
    first = path.lstrip("/").split("/", 1)[0]
    if first == "api" and path.startswith("/api/v1/inbound"):
        return "inbound"
    return first if first in AREAS else "web"


class RequestMetricsMiddleware:
    """Counts every answered request and its latency (server-sent event streams count their start)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        area = _area(request.path)
        LATENCY.labels(area).observe(time.perf_counter() - started)
        REQUESTS.labels(area, f"{response.status_code // 100}xx").inc()
        return response


class StateCollector(Collector):
    """The shared state, read at each scrape."""

    def collect(self) -> list[GaugeMetricFamily]:
        inbound = GaugeMetricFamily("deskhand_inbound_mail", "Inbound mails by status (received = waiting to be filed)",
                                    labels=["status"])
        counts = dict(InboundEmail.objects.order_by().values_list("status").annotate(n=Count("id")))
        for status in InboundStatus.values:
            inbound.add_metric([status], counts.get(status, 0))
        outbound = GaugeMetricFamily("deskhand_outbound_mail", "Outbound mails by status (queued = the backlog)",
                                     labels=["status"])
        counts = dict(OutboundMessage.objects.order_by().values_list("status").annotate(n=Count("id")))
        for status in OutboundStatus.values:
            outbound.add_metric([status], counts.get(status, 0))
        state = queue_state()
        depth = GaugeMetricFamily("deskhand_queue_depth", "Tasks waiting to run", value=state.depth)
        age = GaugeMetricFamily("deskhand_queue_oldest_seconds", "How long the oldest waiting task has waited",
                                value=state.oldest_seconds)
        return [inbound, outbound, depth, age]


def _allowed(request: HttpRequest) -> bool:
    if conf.metrics_token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), conf.metrics_token.encode())
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return address.is_loopback or address.is_private


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(StateCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
