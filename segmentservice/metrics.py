"""Prometheus metrics, served at `/metrics` to a scraper holding `METRICS_TOKEN`
(`segmentservice.api.views.metrics_view`).

Per request (recorded by `segmentservice.requestlog.RequestLogMiddleware`), labelled by
the URL pattern that answered (`route`, "unmatched" when none did), never the raw path:

    segment_service_http_request_duration_seconds  histogram {method, route}
    segment_service_http_requests_total            counter   {method, route, status}
    segment_service_db_queries_total               counter   {method, route}  SQL statements run

Read from the database at scrape time, so they hold whichever process delivers:

    segment_service_webhook_backlog_events         gauge {endpoint, tenant}  events not yet delivered
    segment_service_webhook_delivery_failures      gauge {endpoint, tenant}  consecutive failed attempts

Under gunicorn every worker keeps its own counts; prometheus-client's multiprocess mode
adds them up from files in `PROMETHEUS_MULTIPROC_DIR`, which gunicorn.conf.py sets to a
fresh temporary directory unless the environment names one. The variable must be set
before this module is first imported (gunicorn.conf.py runs before the workers load the app).
"""

from __future__ import annotations

import logging
import os

from django.db import DatabaseError
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

UNMATCHED = "unmatched"
# Any other method a client invents is counted as "OTHER", so labels stay few.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_SECONDS = Histogram(
    "segment_service_http_request_duration_seconds",
    "Seconds from the request reaching Django to its response, per route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter(
    "segment_service_http_requests",
    "Requests answered, per route and status code.",
    ["method", "route", "status"],
)
DB_QUERIES = Counter(
    "segment_service_db_queries",
    "SQL statements run while answering requests, per route.",
    ["method", "route"],
)


def request_observe(*, method: str, route: str | None, status: int, seconds: float, queries: int):
    """Record one answered request."""
    method = method if method in METHODS else "OTHER"
    route = route or UNMATCHED
    REQUEST_SECONDS.labels(method, route).observe(seconds)
    REQUESTS.labels(method, route, str(status)).inc()
    DB_QUERIES.labels(method, route).inc(queries)


class WebhookCollector:
    """The webhook backlog and failures, read from the database on each scrape."""

    def collect(self):
        from segments.selectors.webhooks import webhook_endpoints_backlog

        backlog = GaugeMetricFamily(
            "segment_service_webhook_backlog_events",
            "Events recorded for an active webhook endpoint and not yet delivered to it.",
            labels=["endpoint", "tenant"],
        )
        failures = GaugeMetricFamily(
            "segment_service_webhook_delivery_failures",
            "Consecutive failed delivery attempts of an active endpoint (0 after a success).",
            labels=["endpoint", "tenant"],
        )
        try:
            rows = webhook_endpoints_backlog()
        except DatabaseError:
            # The scrape still answers with the request metrics; /readyz reports the database.
            logger.warning("Webhook metrics skipped: the database did not answer.")
            return
        for row in rows:
            labels = [str(row.endpoint_id), row.tenant]
            backlog.add_metric(labels, row.backlog)
            failures.add_metric(labels, row.failures)
        yield backlog
        yield failures


class _Delegate:
    """Hands a registry's metrics to another registry (for the single-process case)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self):
        return self.registry.collect()


def metrics_registry() -> CollectorRegistry:
    """Every metric: all workers' (multiprocess mode) or this process's, and the webhooks'."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Delegate(REGISTRY))
    registry.register(WebhookCollector())
    return registry
