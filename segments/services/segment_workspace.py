"""Writes of the admin's segment workspace: many members or items at once, and duplication.

Every write goes through the one assignment bulk pipeline (`customer_assignments_bulk_*`,
`item_assignments_bulk_*`), in chunks of `WORKSPACE_CHUNK` elements inside one transaction:
each assignment gets its version, timestamps and change event exactly as a bulk API call
would give them, and a paste of 50,000 ids is all or nothing.

    added = segment_customers_add(tenant=t, segment_id="spring", customer_ids=["c1", "c2"])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from segments.choices import ItemType
from segments.models import CustomerAssignment, ItemAssignment, Segment
from segments.services.assignments import WriteFields
from segments.services.customer_assignments import (
    AssignmentKey,
    CustomerAssignmentInput,
    customer_assignments_bulk_delete,
    customer_assignments_bulk_upsert,
)
from segments.services.item_assignments import (
    ItemAssignmentInput,
    item_assignments_bulk_delete,
    item_assignments_bulk_upsert,
)
from segments.services.segments import SegmentFields, segment_create
from segmentservice.bulk import BulkItemResult
from segmentservice.db import atomic_with_retry
from tenants.models import Tenant

WORKSPACE_CHUNK = 1000
T = TypeVar("T")


def _written(results: Sequence[BulkItemResult]) -> int:
    return sum(1 for result in results if result.code < 300)


def _chunks(values: Sequence[T]) -> Iterator[list[tuple[int, T]]]:
    for start in range(0, len(values), WORKSPACE_CHUNK):
        yield list(enumerate(values[start : start + WORKSPACE_CHUNK], start + 1))


@atomic_with_retry
def segment_customers_add(*, tenant: Tenant, segment_id: str, customer_ids: Sequence[str]) -> int:
    """Make customers (B2C) manual members of a segment; returns how many were written."""
    written = 0
    for chunk in _chunks(list(customer_ids)):
        elements = [
            (index, CustomerAssignmentInput(customer_id, None, WriteFields()))
            for index, customer_id in chunk
        ]
        written += _written(
            customer_assignments_bulk_upsert(
                tenant=tenant, segment_id=segment_id, elements=elements
            )
        )
    return written


@atomic_with_retry
def segment_customers_remove(
    *, tenant: Tenant, segment_id: str, keys: Sequence[AssignmentKey]
) -> int:
    """Remove (customer id, legal entity id or None) assignments; returns how many went."""
    removed = 0
    for chunk in _chunks(list(keys)):
        removed += _written(
            customer_assignments_bulk_delete(tenant=tenant, segment_id=segment_id, keys=chunk)
        )
    return removed


@atomic_with_retry
def segment_items_add(
    *, tenant: Tenant, segment_id: str, type: ItemType, item_ids: Sequence[str]
) -> int:
    """Assign products or categories (by id) to a segment; returns how many were written."""
    written = 0
    for chunk in _chunks(list(item_ids)):
        elements = [
            (index, ItemAssignmentInput(item_id, WriteFields())) for index, item_id in chunk
        ]
        written += _written(
            item_assignments_bulk_upsert(
                tenant=tenant, segment_id=segment_id, type=type, elements=elements
            )
        )
    return written


@atomic_with_retry
def segment_items_remove(
    *, tenant: Tenant, segment_id: str, type: ItemType, item_ids: Sequence[str]
) -> int:
    """Remove products or categories (by id) from a segment; returns how many went."""
    removed = 0
    for chunk in _chunks(list(item_ids)):
        removed += _written(
            item_assignments_bulk_delete(
                tenant=tenant, segment_id=segment_id, type=type, item_ids=chunk
            )
        )
    return removed


@atomic_with_retry
def segment_duplicate(
    *,
    tenant: Tenant,
    source: Segment,
    segment_id: str | None,
    name: Mapping[str, str],
    with_assignments: bool,
) -> Segment:
    """A new segment with `source`'s content under a new id and name, inactive.

    With `with_assignments`, its customers (B2C and B2B, with their mixins) and items are
    copied through the bulk pipeline, so each copy is a manual assignment with its own
    created event.
    """
    copy = segment_create(
        tenant=tenant,
        segment_id=segment_id or None,
        fields=SegmentFields(
            name=dict(name),
            site_code=source.site_code,
            description=dict(source.description or {}),
            valid_from=source.valid_from,
            valid_to=source.valid_to,
            mixins=dict(source.mixins or {}),
            metadata_mixins=dict(source.metadata_mixins or {}),
        ),
    )
    if not with_assignments:
        return copy
    customers = (
        CustomerAssignment.objects.filter(tenant=tenant, segment=source)
        .order_by("pk")
        .values_list(
            "customer__external_id", "legal_entity__external_id", "mixins", "metadata_mixins"
        )
    )
    inputs: list[CustomerAssignmentInput] = [
        CustomerAssignmentInput(customer_id, legal_entity_id, WriteFields(mixins, metadata))
        for customer_id, legal_entity_id, mixins, metadata in customers.iterator(2000)
    ]
    for chunk in _chunks(inputs):
        customer_assignments_bulk_upsert(tenant=tenant, segment_id=copy.external_id, elements=chunk)
    for item_type, field in ((ItemType.PRODUCT, "product"), (ItemType.CATEGORY, "category")):
        items: list[Any] = [
            ItemAssignmentInput(item_id, WriteFields(mixins, metadata))
            for item_id, mixins, metadata in ItemAssignment.objects.filter(
                tenant=tenant, segment=source, type=item_type
            )
            .order_by("pk")
            .values_list(f"{field}__external_id", "mixins", "metadata_mixins")
        ]
        for chunk in _chunks(items):
            item_assignments_bulk_upsert(
                tenant=tenant, segment_id=copy.external_id, type=item_type, elements=chunk
            )
    return copy
