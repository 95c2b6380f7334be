"""Delivery of change events to webhook endpoints: signed, retried with backoff, in order.

Each endpoint keeps a cursor (`last_event_id`). A delivery run sends the tenant's events
after the cursor, in id order, one POST each; the cursor moves only past an event the
endpoint acknowledged with 2xx. A failure stops that endpoint's run and schedules a retry
with exponential backoff (capped), so events are never lost and never reordered.

Each POST carries the event as JSON and these headers:

    X-Event-Id: 42
    X-Event-Type: customer-segment.segment-created
    X-Timestamp: 1732665600
    X-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the endpoint's secret>
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from segments.models import Event, WebhookEndpoint
from segmentservice.api.timestamps import format_instant

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 3600
REQUEST_TIMEOUT_SECONDS = 10

Sender = Callable[[str, bytes, dict[str, str]], int]


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery run did."""

    delivered: int
    failed_endpoints: int


def event_body(event: Event) -> bytes:
    """The JSON document POSTed for an event."""
    return json.dumps(
        {
            "id": event.id,
            "type": event.type,
            "tenant": event.tenant_id,
            "resourceId": event.resource_id,
            "createdAt": format_instant(event.created_at),
            "data": event.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Signature` value for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def http_send(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url`; returns the status code (0 when the endpoint was unreachable)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, TimeoutError, OSError):
        return 0


def backoff_seconds(failures: int) -> int:
    """Delay before the next attempt after `failures` consecutive failures."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(failures - 1, 0), BACKOFF_MAX_SECONDS)


def webhooks_deliver(*, batch_size: int = 100, send: Sender = http_send) -> DeliveryReport:
    """Send every due endpoint its pending events, oldest first, up to `batch_size` each."""
    now = timezone.now()
    due = WebhookEndpoint.objects.filter(is_active=True, next_attempt_at__lte=now).order_by("id")
    delivered = failed = 0
    for endpoint_id in due.values_list("id", flat=True):
        sent, ok = _deliver_endpoint(endpoint_id=endpoint_id, batch_size=batch_size, send=send)
        delivered += sent
        failed += 0 if ok else 1
    return DeliveryReport(delivered=delivered, failed_endpoints=failed)


def _deliver_endpoint(*, endpoint_id: int, batch_size: int, send: Sender) -> tuple[int, bool]:
    with transaction.atomic():
        # The row lock keeps two delivery processes from sending the same events twice.
        endpoint = (
            WebhookEndpoint.objects.select_for_update(skip_locked=True)
            .filter(id=endpoint_id)
            .first()
        )
        if endpoint is None:
            return 0, True
        events = Event.objects.filter(tenant_id=endpoint.tenant_id, id__gt=endpoint.last_event_id)
        if endpoint.event_types:
            events = events.filter(type__in=endpoint.event_types)
        sent = 0
        for event in events.order_by("id")[:batch_size]:
            body = event_body(event)
            timestamp = str(int(time.time()))
            status = send(
                endpoint.url,
                body,
                {
                    "Content-Type": "application/json",
                    "X-Event-Id": str(event.id),
                    "X-Event-Type": event.type,
                    "X-Timestamp": timestamp,
                    "X-Signature": signature(
                        secret=endpoint.secret, timestamp=timestamp, body=body
                    ),
                },
            )
            if not 200 <= status < 300:
                endpoint.failures += 1
                endpoint.next_attempt_at = timezone.now() + timedelta(
                    seconds=backoff_seconds(endpoint.failures)
                )
                endpoint.last_error = f"Event {event.id}: HTTP {status or 'unreachable'}"
                logger.warning("Webhook %s failed: %s", endpoint.url, endpoint.last_error)
                endpoint.save(update_fields=["failures", "next_attempt_at", "last_error"])
                return sent, False
            endpoint.last_event_id = event.id
            sent += 1
        endpoint.failures = 0
        endpoint.last_error = ""
        endpoint.save(update_fields=["last_event_id", "failures", "last_error"])
        return sent, True
