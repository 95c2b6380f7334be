"""Change events, recorded in the same transaction as the change they describe (SPEC §10).

Every service that changes a segment or an assignment calls `event_record` (or
`events_record` for a batch) inside its transaction, so an event exists exactly when
its change was committed. The database stamps each with the writing transaction
(`Event.transaction_id`), which is what delivery to webhooks goes by
(`segments.services.webhooks`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from segments.choices import EventType
from segments.models import Event
from segmentservice.db import rows_insert
from tenants.models import Tenant


def event_record(
    *, tenant: Tenant, type: EventType, resource_id: str, payload: dict[str, Any]
) -> Event:
    """Record one change event."""
    return Event.objects.create(tenant=tenant, type=type, resource_id=resource_id, payload=payload)


def events_record(
    *, tenant: Tenant, events: Iterable[tuple[EventType, str, dict[str, Any]]]
) -> int:
    """Record several change events with one INSERT, in order; returns how many.

    `events` are (type, resource_id, payload).
    """
    rows = [
        Event(tenant=tenant, type=type_, resource_id=resource_id, payload=payload)
        for type_, resource_id, payload in events
    ]
    return rows_insert(rows)
