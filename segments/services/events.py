"""Change events, recorded in the same transaction as the change they describe (SPEC §10).

Every service that changes a segment or an assignment calls `events_record` (one INSERT
for all its events) inside its transaction, so an event exists exactly when its change
was committed; `event_record` records a single event. Development data (`generate_data`)
is loaded without events. Each event names its actor, read from the context
(`segmentservice.actor`: the API client, the admin user, the command, or "system"), and
the database stamps it with the writing transaction (`Event.transaction_id`), which is
what delivery to webhooks goes by (`segments.services.webhooks`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from segments.choices import EventType
from segments.models import Event
from segmentservice.actor import current_actor
from segmentservice.db import values_insert
from tenants.models import Tenant


def event_record(
    *, tenant: Tenant, type: EventType, resource_id: str, payload: dict[str, Any]
) -> Event:
    """Record one change event."""
    return Event.objects.create(
        tenant=tenant, type=type, resource_id=resource_id, payload=payload, actor=current_actor()
    )


def events_record(
    *, tenant: Tenant, events: Iterable[tuple[EventType, str, dict[str, Any]]]
) -> int:
    """Record several change events with one INSERT, in order; returns how many.

    `events` are (type, resource_id, payload).
    """
    events = list(events)
    if not events:
        return 0
    actor = current_actor()
    # Dicts, not Event instances: building 200 instances cost more than the INSERT.
    rows = [
        {
            "tenant_id": tenant.pk,
            "type": type_,
            "resource_id": resource_id,
            "payload": payload,
            "actor": actor,
        }
        for type_, resource_id, payload in events
    ]
    return values_insert(Event, rows)
