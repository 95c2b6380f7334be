"""Reads about webhook delivery: how far behind each endpoint is."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from segments.models import Event, WebhookEndpoint


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


def events_committed_at(position: str) -> Q:
    """Events whose transaction had committed when `position` was taken."""
    if connection.vendor != "postgresql":
        return Q(id__lte=int(position))
    _xmin, xmax, in_progress = position.split(":")
    committed = Q(transaction_id__lt=int(xmax))
    if in_progress:
        committed &= ~Q(transaction_id__in=[int(x) for x in in_progress.split(",")])
    return committed


def events_not_committed_at(position: str) -> Q:
    """Events whose transaction had not committed when `position` was taken."""
    if connection.vendor != "postgresql":
        return Q(id__gt=int(position))
    xmin, xmax, in_progress = position.split(":")
    pending = Q(transaction_id__gte=int(xmax))
    if in_progress:
        pending |= Q(transaction_id__in=[int(x) for x in in_progress.split(",")])
    # Every transaction below xmin had ended: a bound an index can use.
    return Q(transaction_id__gte=int(xmin)) & pending


def webhook_endpoint_pending(endpoint: WebhookEndpoint):
    """The events `endpoint` has still to be sent: those not committed at its delivered
    position, less those of its open batch already sent (of its types, if it names any)."""
    events = Event.objects.filter(tenant_id=endpoint.tenant_id)
    if endpoint.delivered_through:
        events = events.filter(events_not_committed_at(endpoint.delivered_through))
    if endpoint.batch_through:
        events = events.exclude(
            events_committed_at(endpoint.batch_through) & Q(id__lte=endpoint.batch_after_id)
        )
    if endpoint.event_types:
        events = events.filter(type__in=endpoint.event_types)
    return events
