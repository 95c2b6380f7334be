"""Writes of item assignments: upsert and delete products or categories of a segment.

As for customer assignments, a single write runs the batch code with one element: the
item must exist in the tenant's catalogue (else 400 naming it), a stale
`metadata.version` is a 409 and writes nothing, every write counts a new version, sets
`modifiedAt` and records one event, and a batch costs a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from segments.choices import EventType, ItemType
from segments.exceptions import AssignmentNotFound, UnknownReference
from segments.models import Category, ItemAssignment, Product, Segment
from segments.selectors.item_assignments import item_missing_message
from segments.services.assignments import (
    UpsertOutcome,
    WriteFields,
    apply_write,
    bulk_result,
    duplicate_error,
    metadata_payload,
    segment_for_write,
    version_check,
)
from segments.services.events import events_record
from segmentservice.bulk import BulkItemResult
from segmentservice.db import atomic_with_retry, rows_update
from segmentservice.exceptions import ServiceError
from tenants.models import Tenant


@dataclass(frozen=True)
class ItemAssignmentInput:
    """One item assignment to write: `{"id", "mixins", "metadata"}` (the type is the path's)."""

    item_id: str
    fields: WriteFields


@atomic_with_retry
def item_assignment_upsert(
    *, tenant: Tenant, segment_id: str, type: ItemType, data: ItemAssignmentInput
) -> UpsertOutcome[ItemAssignment]:
    """Create or replace the assignment of one product or category to a segment."""
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    [outcome] = _upsert(tenant=tenant, segment=segment, type=type, elements=[data])
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


@atomic_with_retry
def item_assignments_bulk_upsert(
    *,
    tenant: Tenant,
    segment_id: str,
    type: ItemType,
    elements: Sequence[ItemAssignmentInput | ServiceError],
) -> list[BulkItemResult]:
    """Create or replace many assignments of one item type; failed elements pass through.

    [{"id": "12468504", "mixins": {...}}, {"id": "12849186", "metadata": {"version": 2}}]
    """
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    outcomes = _upsert(tenant=tenant, segment=segment, type=type, elements=elements)
    return [bulk_result(index, outcome) for index, outcome in enumerate(outcomes, start=1)]


@atomic_with_retry
def item_assignment_delete(
    *, tenant: Tenant, segment_id: str, type: ItemType, item_id: str
) -> None:
    """Remove one item assignment; raises AssignmentNotFound (404) when there is none."""
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    [outcome] = _delete(tenant=tenant, segment=segment, type=type, item_ids=[item_id])
    if isinstance(outcome, ServiceError):
        raise outcome


@atomic_with_retry
def item_assignments_bulk_delete(
    *,
    tenant: Tenant,
    segment_id: str,
    type: ItemType,
    item_ids: Sequence[str | ServiceError],
) -> list[BulkItemResult]:
    """Remove many item assignments of one type: `["id1", "id2"]`; a missing one is a 404 entry."""
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    outcomes = _delete(tenant=tenant, segment=segment, type=type, item_ids=item_ids)
    return [bulk_result(index, outcome) for index, outcome in enumerate(outcomes, start=1)]


# --- The batch code ---------------------------------------------------------------------------


def _item_field(type: ItemType) -> str:
    return "product" if type == ItemType.PRODUCT else "category"


def _upsert(
    *,
    tenant: Tenant,
    segment: Segment,
    type: ItemType,
    elements: Sequence[ItemAssignmentInput | ServiceError],
) -> list[UpsertOutcome[ItemAssignment] | ServiceError]:
    model = Product if type == ItemType.PRODUCT else Category
    item_field = _item_field(type)
    wanted = {e.item_id for e in elements if isinstance(e, ItemAssignmentInput)}
    items = (
        {
            row.external_id: row
            for row in model.objects.filter(tenant=tenant, external_id__in=wanted)
        }
        if wanted
        else {}
    )
    existing = (
        {
            getattr(row, f"{item_field}_id"): row
            for row in ItemAssignment.objects.filter(
                tenant=tenant,
                segment=segment,
                type=type,
                **{f"{item_field}__in": [item.pk for item in items.values()]},
            )
        }
        if items
        else {}
    )

    now = timezone.now()
    outcomes: list[UpsertOutcome[ItemAssignment] | ServiceError] = []
    seen: set[str] = set()
    to_create: list[ItemAssignment] = []
    to_update: list[ItemAssignment] = []
    events: list[tuple[EventType, str, dict[str, Any]]] = []
    for element in elements:
        if isinstance(element, ServiceError):
            outcomes.append(element)
            continue
        label = type.label.lower()
        if element.item_id in seen:
            outcomes.append(duplicate_error(f"The {label} with id {element.item_id}"))
            continue
        seen.add(element.item_id)
        item = items.get(element.item_id)
        if item is None:
            outcomes.append(
                UnknownReference(
                    f"The {label} with id {element.item_id} does not exist.",
                    resource_id=element.item_id,
                )
            )
            continue
        row = existing.get(item.pk)
        created = row is None
        if created:
            row = ItemAssignment(
                tenant=tenant,
                segment=segment,
                type=type,
                mixins=element.fields.mixins,
                metadata_mixins=element.fields.metadata_mixins,
                created_at=now,
                modified_at=now,
                **{item_field: item},
            )
            to_create.append(row)
        else:
            try:
                version_check(
                    row, element.fields.version, f"the {label} assignment {item.external_id}"
                )
            except ServiceError as error:
                outcomes.append(error)
                continue
            apply_write(row, element.fields, now)
            setattr(row, item_field, item)
            to_update.append(row)
        outcomes.append(UpsertOutcome(created=created, assignment=row))
        event_type = (
            EventType.ITEM_ASSIGNMENT_CREATED if created else EventType.ITEM_ASSIGNMENT_UPDATED
        )
        events.append(
            (event_type, _resource_id(segment, type, item.external_id), _payload(segment, row))
        )

    ItemAssignment.objects.bulk_create(to_create)
    rows_update(to_update, ["mixins", "metadata_mixins", "version", "modified_at"])
    events_record(tenant=tenant, events=events)
    return outcomes


def _delete(
    *,
    tenant: Tenant,
    segment: Segment,
    type: ItemType,
    item_ids: Sequence[str | ServiceError],
) -> list[None | ServiceError]:
    item_field = _item_field(type)
    wanted = {i for i in item_ids if isinstance(i, str)}
    existing = (
        {
            getattr(row, item_field).external_id: row
            for row in ItemAssignment.objects.filter(
                tenant=tenant,
                segment=segment,
                type=type,
                **{f"{item_field}__external_id__in": wanted},
            ).select_related(item_field)
        }
        if wanted
        else {}
    )
    outcomes: list[None | ServiceError] = []
    seen: set[str] = set()
    doomed: list[int] = []
    events: list[tuple[EventType, str, dict[str, Any]]] = []
    for item_id in item_ids:
        if isinstance(item_id, ServiceError):
            outcomes.append(item_id)
            continue
        if item_id in seen:
            outcomes.append(duplicate_error(f"The {type.label.lower()} with id {item_id}"))
            continue
        seen.add(item_id)
        row = existing.get(item_id)
        if row is None:
            outcomes.append(
                AssignmentNotFound(
                    item_missing_message(segment.external_id, type, item_id), resource_id=item_id
                )
            )
            continue
        doomed.append(row.pk)
        events.append(
            (
                EventType.ITEM_ASSIGNMENT_DELETED,
                _resource_id(segment, type, item_id),
                _payload(segment, row),
            )
        )
        outcomes.append(None)
    if doomed:
        ItemAssignment.objects.filter(tenant=tenant, pk__in=doomed).delete()
    events_record(tenant=tenant, events=events)
    return outcomes


def item_assignment_deleted_event(row: ItemAssignment) -> tuple[EventType, str, dict[str, Any]]:
    """The `item-assignment-deleted` event of a row (segment, product or category loaded)."""
    item = row.product if row.type == ItemType.PRODUCT else row.category
    return (
        EventType.ITEM_ASSIGNMENT_DELETED,
        _resource_id(row.segment, ItemType(row.type), item.external_id),
        _payload(row.segment, row),
    )


def _resource_id(segment: Segment, type: ItemType, item_id: str) -> str:
    return f"{segment.external_id}/{type.value}/{item_id}"


def _payload(segment: Segment, row: ItemAssignment) -> dict[str, Any]:
    """The event payload: the assignment as the API shows it (item by id and code)."""
    item = row.product if row.type == ItemType.PRODUCT else row.category
    payload: dict[str, Any] = {
        "segmentId": segment.external_id,
        "item": {"id": item.external_id, "code": item.code},
        "type": row.type,
    }
    if row.mixins:
        payload["mixins"] = row.mixins
    payload["metadata"] = metadata_payload(row)
    return payload
