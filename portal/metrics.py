"""Prometheus metrics: request counts and latencies, websocket connections, job queue depth.

Metrics live in a registry of our own so tests and multiple imports do not collide with
the client library's global default registry. ``/metrics`` renders it (``portal.health``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "agora_http_requests_total",
    "HTTP requests served, by method, route and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "agora_http_request_duration_seconds",
    "HTTP request latency by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
WEBSOCKET_CONNECTIONS = Gauge(
    "agora_websocket_connections",
    "Open websocket connections on this process.",
    registry=REGISTRY,
)
REALTIME_EVENTS = Counter(
    "agora_realtime_events_published_total",
    "Events published through the realtime hub.",
    ["topic_kind"],
    registry=REGISTRY,
)


class JobQueueCollector(Collector):
    """Job counts by status, read from the database at scrape time (shared by all workers)."""

    NAME = "agora_job_queue_depth"
    HELP = "Background jobs by status: queued (including scheduled later), running, failed."

    def describe(self) -> list[Metric]:
        # Describing without collecting keeps registration free of database queries.
        return [
            GaugeMetricFamily(self.NAME, self.HELP, labels=["status"]),
            GaugeMetricFamily("agora_job_oldest_due_seconds", "", value=0),
            GaugeMetricFamily("agora_job_queue_scrape_ok", "", value=0),
        ]

    def collect(self) -> Iterator[Metric]:
        from portal.jobs import jobs_oldest_due_age, jobs_queue_depth

        family = GaugeMetricFamily(self.NAME, self.HELP, labels=["status"])
        try:
            depth = jobs_queue_depth()
            oldest = jobs_oldest_due_age()
        except Exception:  # the database is down: say so rather than fail the scrape
            depth, oldest = {}, 0.0
        for status, count in depth.items():
            family.add_metric([status], count)
        yield family
        yield GaugeMetricFamily(
            "agora_job_oldest_due_seconds",
            "How long the longest-waiting due job has waited (0 when none are due).",
            value=oldest,
        )
        yield GaugeMetricFamily(
            "agora_job_queue_scrape_ok",
            "1 if the job queue could be read at this scrape.",
            value=1 if depth else 0,
        )


REGISTRY.register(JobQueueCollector())


def _route_of(request: HttpRequest) -> str:
    # The URL pattern, not the raw path, so ids do not explode label cardinality.
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.route or match.view_name or "unknown"


class MetricsMiddleware:
    """Count and time every HTTP request by its URL pattern."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route_of(request)
        HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(request.method or "", route, str(response.status_code)).inc()
        return response
