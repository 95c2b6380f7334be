"""Writes of item assignments: upsert and delete products or categories of a segment.

As for customer assignments, a single write runs the batch code with one element: the
item must exist in the tenant's catalogue (else 400 naming it), a stale
`metadata.version` is a 409 and writes nothing, every write counts a new version, sets
`modifiedAt` and records one event, and a batch costs a fixed number of queries. The
batch code is `assignment_pipeline`'s; this module is its item kind, one per item type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from segments.choices import EventType, ItemType
from segments.exceptions import AssignmentNotFound, UnknownReference
from segments.models import Category, ItemAssignment, Product, Segment
from segments.selectors.item_assignments import item_missing_message
from segments.services import assignment_pipeline as pipeline
from segments.services.assignments import UpsertOutcome, WriteFields, metadata_payload
from segmentservice.bulk import BulkItemResult
from tenants.models import Tenant

Item = Product | Category


@dataclass(frozen=True)
class ItemAssignmentInput:
    """One item assignment to write: `{"id", "mixins", "metadata"}` (the type is the path's)."""

    item_id: str
    fields: WriteFields


class ItemAssignmentKind(
    pipeline.AssignmentKind[ItemAssignmentInput, str, dict[str, Item], ItemAssignment]
):
    """The products, or the categories, of a segment: the key is the item's id."""

    model = ItemAssignment
    created_event = EventType.ITEM_ASSIGNMENT_CREATED
    updated_event = EventType.ITEM_ASSIGNMENT_UPDATED
    deleted_event = EventType.ITEM_ASSIGNMENT_DELETED

    def __init__(self, type: ItemType) -> None:
        self.type = type
        self.item_model = Product if type == ItemType.PRODUCT else Category
        self.item_field = "product" if type == ItemType.PRODUCT else "category"
        self.reference_fields = (self.item_field,)
        self.label = type.label.lower()

    def key(self, element: ItemAssignmentInput) -> str:
        return element.item_id

    def fixed(self) -> dict[str, Any]:
        return {"type": self.type}

    def duplicate_what(self, key: str) -> str:
        return f"The {self.label} with id {key}"

    def version_what(self, key: str) -> str:
        return f"the {self.label} assignment {key}"

    def references(
        self, tenant: Tenant, elements: Sequence[ItemAssignmentInput]
    ) -> dict[str, Item]:
        wanted = {e.item_id for e in elements}
        if not wanted:
            return {}
        rows = self.item_model.objects.filter(tenant=tenant, external_id__in=wanted)
        return {row.external_id: row for row in rows}

    def resolve(self, element: ItemAssignmentInput, refs: dict[str, Item]) -> pipeline.Resolved:
        item = refs.get(element.item_id)
        if item is None:
            raise UnknownReference(
                f"The {self.label} with id {element.item_id} does not exist.",
                resource_id=element.item_id,
            )
        return {self.item_field: item}

    def existing_for_upsert(
        self, tenant: Tenant, segment: Segment, refs: dict[str, Item]
    ) -> Iterable[ItemAssignment]:
        if not refs:
            return []
        return ItemAssignment.objects.filter(
            tenant=tenant,
            segment=segment,
            type=self.type,
            **{f"{self.item_field}__in": [item.pk for item in refs.values()]},
        )

    def existing_for_delete(
        self, tenant: Tenant, segment: Segment, keys: set[str]
    ) -> dict[str, ItemAssignment]:
        if not keys:
            return {}
        rows = ItemAssignment.objects.filter(
            tenant=tenant,
            segment=segment,
            type=self.type,
            **{f"{self.item_field}__external_id__in": keys},
        ).select_related(self.item_field)
        return {self.row_key(row): row for row in rows}

    def missing(self, segment: Segment, key: str) -> AssignmentNotFound:
        return AssignmentNotFound(
            item_missing_message(segment.external_id, self.type, key), resource_id=key
        )

    def row_key(self, row: ItemAssignment) -> str:
        return getattr(row, self.item_field).external_id

    def resource_id(self, segment: Segment, key: str) -> str:
        return f"{segment.external_id}/{self.type.value}/{key}"

    def payload(self, segment: Segment, row: ItemAssignment) -> dict[str, Any]:
        """The assignment as the API shows it (item by id and code)."""
        item = getattr(row, self.item_field)
        payload: dict[str, Any] = {
            "segmentId": segment.external_id,
            "item": {"id": item.external_id, "code": item.code},
            "type": row.type,
        }
        if row.mixins:
            payload["mixins"] = row.mixins
        payload["metadata"] = metadata_payload(row)
        return payload


KINDS = {type: ItemAssignmentKind(type) for type in ItemType}


def item_assignment_upsert(
    *, tenant: Tenant, segment_id: str, type: ItemType, data: ItemAssignmentInput
) -> UpsertOutcome[ItemAssignment]:
    """Create or replace the assignment of one product or category to a segment."""
    return pipeline.assignment_upsert(KINDS[type], tenant=tenant, segment_id=segment_id, data=data)


def item_assignments_bulk_upsert(
    *,
    tenant: Tenant,
    segment_id: str,
    type: ItemType,
    elements: Sequence[tuple[int, ItemAssignmentInput]],
) -> list[BulkItemResult]:
    """Create or replace many assignments of one item type: the valid elements by index.

    [(1, ItemAssignmentInput("12468504", WriteFields(...))), (2, ItemAssignmentInput(...))]
    """
    return pipeline.assignments_bulk_upsert(
        KINDS[type], tenant=tenant, segment_id=segment_id, elements=elements
    )


def item_assignment_delete(
    *, tenant: Tenant, segment_id: str, type: ItemType, item_id: str
) -> None:
    """Remove one item assignment; raises AssignmentNotFound (404) when there is none."""
    pipeline.assignment_delete(KINDS[type], tenant=tenant, segment_id=segment_id, key=item_id)


def item_assignments_bulk_delete(
    *,
    tenant: Tenant,
    segment_id: str,
    type: ItemType,
    item_ids: Sequence[tuple[int, str]],
) -> list[BulkItemResult]:
    """Remove many item assignments of one type: `(index, item id)` pairs; a missing one is a 404."""
    return pipeline.assignments_bulk_delete(
        KINDS[type], tenant=tenant, segment_id=segment_id, keys=item_ids
    )


def item_assignment_deleted_event(row: ItemAssignment) -> tuple[EventType, str, dict[str, Any]]:
    """The `item-assignment-deleted` event of a row (segment, product or category loaded)."""
    return KINDS[ItemType(row.type)].deleted(row)
