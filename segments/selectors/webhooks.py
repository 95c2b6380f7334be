"""Reads about webhook delivery: how far behind each endpoint is."""

from __future__ import annotations

from dataclasses import dataclass

from segments.models import WebhookEndpoint
from segments.services.webhooks import webhook_endpoint_pending


@dataclass(frozen=True)
class EndpointBacklog:
    """An active endpoint's undelivered events and consecutive failures."""

    endpoint_id: int
    tenant: str
    backlog: int
    failures: int


def webhook_endpoints_backlog() -> list[EndpointBacklog]:
    """Every active endpoint with the count of the events it has still to be sent."""
    rows = []
    for endpoint in WebhookEndpoint.objects.filter(is_active=True).order_by("id"):
        events = webhook_endpoint_pending(endpoint)
        rows.append(
            EndpointBacklog(
                endpoint_id=endpoint.id,
                tenant=endpoint.tenant_id,
                backlog=events.count(),
                failures=endpoint.failures,
            )
        )
    return rows
