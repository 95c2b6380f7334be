"""Reads about webhook delivery: how far behind each endpoint is."""

from __future__ import annotations

from dataclasses import dataclass

from segments.models import Event, WebhookEndpoint


@dataclass(frozen=True)
class EndpointBacklog:
    """An active endpoint's undelivered events and consecutive failures."""

    endpoint_id: int
    tenant: str
    backlog: int
    failures: int


def webhook_endpoints_backlog() -> list[EndpointBacklog]:
    """Every active endpoint with the count of its events after its cursor (of its types)."""
    rows = []
    for endpoint in WebhookEndpoint.objects.filter(is_active=True).order_by("id"):
        events = Event.objects.filter(tenant_id=endpoint.tenant_id, id__gt=endpoint.last_event_id)
        if endpoint.event_types:
            events = events.filter(type__in=endpoint.event_types)
        rows.append(
            EndpointBacklog(
                endpoint_id=endpoint.id,
                tenant=endpoint.tenant_id,
                backlog=events.count(),
                failures=endpoint.failures,
            )
        )
    return rows
