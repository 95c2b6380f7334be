"""Delivery of change events to webhook endpoints: signed, retried with backoff, in order.

Each POST carries the event as JSON and these headers:

    X-Event-Id: 42
    X-Event-Type: customer-segment.segment-created
    X-Timestamp: 1732665600
    X-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the endpoint's secret>

**Which events are due.** Event ids are taken at insert, but transactions commit in
another order: an event numbered 7 can become visible after 8 was delivered, so "every id
after the last one sent" would skip it forever. Delivery goes by commits instead. A
*position* of the event log says which writing transactions had committed when it was
taken: on PostgreSQL the snapshot `pg_current_snapshot()` (`xmin:xmax:in-progress ids`)
against each event's `transaction_id`; on SQLite, whose writers hold the database's one
write lock from their first write to their commit so ids follow commit order, the highest
event id. An endpoint remembers `delivered_through`, the position whose committed events
it has been sent. A run takes a new position `batch_through` and sends the *batch*:
the tenant's events committed at `batch_through` but not at `delivered_through`, in id
order, recording after each acknowledged event its id (`batch_after_id`). When the batch
is done, `delivered_through` becomes `batch_through`.

Why that is right: a transaction that has committed stays committed, so every event falls
in exactly one batch (never lost, never sent twice), and a batch, fixed by two stored
positions, is the same set whenever it is read again, so the id cursor inside it is exact
even across failures. Two changes of one resource are ordered by its row lock: the second
event is inserted after the first transaction committed, so it has a higher id and falls
in the same batch or a later one (never reordered per resource). An event's id may then be
lower than one sent before it: ids are unique, not a delivery order.

**Workers.** Sending happens outside any transaction. A worker first claims an endpoint
(`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, then a conditional UPDATE, which also
serializes claims on SQLite) by writing a lease token valid for `LEASE_SECONDS`; every
later write of the delivery state requires that token and extends the lease, so two
workers never send one endpoint's events at once. A worker that dies leaves the lease to
expire; its successor resends at most the event it was sending (receivers deduplicate on
`X-Event-Id`).

**Failures.** A non-2xx answer (or none) stops the endpoint's run and schedules the next
attempt with exponential backoff, capped; the same event is sent first then.

**New endpoints and replays.** A new endpoint starts at the position of its creation:
it gets the events of transactions that had not committed by then. Setting
`replay_from_event_id` makes the next run send every event from that id on again (the
batch starts from nothing, at that id) before carrying on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from segments.models import Event, WebhookEndpoint, event_log_position
from segments.selectors.webhooks import (
    events_committed_at,
    events_not_committed_at,
    webhook_endpoint_pending,
)
from segmentservice.formats import format_instant

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 3600
REQUEST_TIMEOUT_SECONDS = 10
# How long a claim holds without a write: many times one request's timeout.
LEASE_SECONDS = 120

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
            "actor": event.actor,
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
    except (urllib.error.URLError, TimeoutError, OSError, ValueError):
        return 0


def backoff_seconds(failures: int) -> int:
    """Delay before the next attempt after `failures` consecutive failures."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(failures - 1, 0), BACKOFF_MAX_SECONDS)


def webhook_endpoint_replay(*, endpoint: WebhookEndpoint, from_event_id: int) -> None:
    """Ask for every event from `from_event_id` on to be sent to `endpoint` again."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(replay_from_event_id=from_event_id)


def webhooks_deliver(*, batch_size: int = 100, send: Sender = http_send) -> DeliveryReport:
    """Send every due endpoint every event committed before the run, oldest first.

    Call it outside a transaction: it commits as it goes and sends between its writes.
    `batch_size` is how many events are read at a time.
    """
    now = timezone.now()
    due = (
        WebhookEndpoint.objects.filter(is_active=True, next_attempt_at__lte=now)
        .filter(_lease_free(now))
        .order_by("id")
    )
    delivered = failed = 0
    for endpoint_id in list(due.values_list("id", flat=True)):
        endpoint = _claim(endpoint_id)
        if endpoint is None:
            continue  # another worker has it
        try:
            sent, ok = _deliver_endpoint(endpoint, batch_size=batch_size, send=send)
        finally:
            _release(endpoint)
        delivered += sent
        failed += 0 if ok else 1
    return DeliveryReport(delivered=delivered, failed_endpoints=failed)


def _lease_free(now) -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)


def _claim(endpoint_id: int) -> WebhookEndpoint | None:
    """Take the endpoint's lease, applying a requested replay; None when it is not free."""
    now = timezone.now()
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update(skip_locked=True)
            .filter(_lease_free(now), pk=endpoint_id, is_active=True, next_attempt_at__lte=now)
            .first()
        )
        if endpoint is None:
            return None
        changes = {
            "lease_token": uuid.uuid4().hex,
            "lease_expires_at": now + timedelta(seconds=LEASE_SECONDS),
        }
        if endpoint.replay_from_event_id is not None:
            changes |= {
                "replay_from_event_id": None,
                "delivered_through": "",
                "batch_through": "",
                "batch_after_id": endpoint.replay_from_event_id - 1,
            }
        # The condition repeats the lock's: SQLite has no row locks, and this UPDATE is
        # what makes one claim win there.
        claimed = WebhookEndpoint.objects.filter(_lease_free(now), pk=endpoint_id).update(**changes)
        if not claimed:
            return None
    for name, value in changes.items():
        setattr(endpoint, name, value)
    return endpoint


def _keep(endpoint: WebhookEndpoint, **changes) -> bool:
    """Write delivery state if the lease is still ours, extending it; False if it is not."""
    changes.setdefault("lease_expires_at", timezone.now() + timedelta(seconds=LEASE_SECONDS))
    kept = WebhookEndpoint.objects.filter(pk=endpoint.pk, lease_token=endpoint.lease_token).update(
        **changes
    )
    if not kept:
        logger.warning("Webhook %s: lease lost, another worker carries on", endpoint.url)
        endpoint.lease_token = ""
        return False
    for name, value in changes.items():
        setattr(endpoint, name, value)
    return True


def _release(endpoint: WebhookEndpoint) -> None:
    """Give the lease back, if this worker still holds it (also after an error)."""
    if not endpoint.lease_token:
        return
    with suppress(DatabaseError):
        WebhookEndpoint.objects.filter(pk=endpoint.pk, lease_token=endpoint.lease_token).update(
            lease_token="", lease_expires_at=None
        )
    endpoint.lease_token = ""


def _deliver_endpoint(
    endpoint: WebhookEndpoint, *, batch_size: int, send: Sender
) -> tuple[int, bool]:
    """Send the claimed endpoint its events up to now; returns (sent, not failed).

    The caller gives the lease back afterwards.
    """
    sent = 0
    # A batch left open by an earlier run is finished first, then one is opened up to now.
    opened_now = False
    while True:
        if not endpoint.batch_through:
            if opened_now or not _keep(endpoint, batch_through=event_log_position()):
                break
            opened_now = True
        events = _batch(endpoint)[:batch_size]
        if not events:
            if not _keep(
                endpoint,
                delivered_through=endpoint.batch_through,
                batch_through="",
                batch_after_id=0,
            ):
                return sent, True
            continue
        for event in events:
            status = _send(endpoint, event, send)
            if not 200 <= status < 300:
                failures = endpoint.failures + 1
                error = f"Event {event.id}: HTTP {status or 'unreachable'}"
                logger.warning("Webhook %s failed: %s", endpoint.url, error)
                _keep(
                    endpoint,
                    failures=failures,
                    next_attempt_at=timezone.now() + timedelta(seconds=backoff_seconds(failures)),
                    last_error=error,
                )
                return sent, False
            sent += 1
            if not _keep(
                endpoint,
                batch_after_id=event.id,
                last_event_id=event.id,
                failures=0,
                last_error="",
            ):
                return sent, True
    return sent, True


def _batch(endpoint: WebhookEndpoint):
    """The open batch's events still to send, in id order."""
    events = Event.objects.filter(
        events_committed_at(endpoint.batch_through),
        tenant_id=endpoint.tenant_id,
        id__gt=endpoint.batch_after_id,
    )
    if endpoint.delivered_through:
        events = events.filter(events_not_committed_at(endpoint.delivered_through))
    if endpoint.event_types:
        events = events.filter(type__in=endpoint.event_types)
    return events.order_by("id")


def _send(endpoint: WebhookEndpoint, event: Event, send: Sender) -> int:
    body = event_body(event)
    timestamp = str(int(time.time()))
    return send(
        endpoint.url,
        body,
        {
            "Content-Type": "application/json",
            "X-Event-Id": str(event.id),
            "X-Event-Type": event.type,
            "X-Timestamp": timestamp,
            "X-Signature": signature(secret=endpoint.secret, timestamp=timestamp, body=body),
        },
    )


def events_prune(
    *, older_than: timedelta, batch_size: int = 5000, progress: Callable[[int], object] = print
) -> int:
    """Delete the events recorded before `older_than` ago that no active endpoint still
    needs; returns how many went.

    An event is still needed while an active endpoint of its tenant has it pending (see
    `webhook_endpoint_pending`) or has asked for a replay from an id at or below it; events
    of tenants without endpoints are needed by no one. Deleted in batches of `batch_size`,
    each its own short transaction, so a large prune never holds a long lock; `progress`
    gets the number deleted by each batch.
    """
    cutoff = timezone.now() - older_than
    prunable = Event.objects.filter(created_at__lt=cutoff)
    for endpoint in WebhookEndpoint.objects.filter(is_active=True).order_by("id"):
        prunable = prunable.exclude(pk__in=webhook_endpoint_pending(endpoint).values("pk"))
        if endpoint.replay_from_event_id is not None:
            prunable = prunable.exclude(
                tenant_id=endpoint.tenant_id, id__gte=endpoint.replay_from_event_id
            )
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(prunable.order_by("id").values_list("id", flat=True)[:batch_size])
            if not ids:
                return deleted
            count, _ = Event.objects.filter(id__in=ids).delete()
        deleted += count
        progress(count)
