"""Writes of the admin's segment workspace: many members or items at once, and duplication.

Every write is one transaction, so a paste of 50,000 ids is all or nothing, and each
assignment gets its version, timestamps and change event as a bulk API call would give
them. Adding or removing many B2C members on PostgreSQL is set-based (one statement with
its events, then the rules' follow-up); the rest goes through the one assignment bulk
pipeline (`customer_assignments_bulk_*`, `item_assignments_bulk_*`) in chunks of
`WORKSPACE_CHUNK` elements.

    added = segment_customers_add(tenant=t, segment_id="spring", customer_ids=["c1", "c2"])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from django.db import connection
from django.utils import timezone

from segments.choices import AssignmentType, EventType, ItemType
from segments.models import Customer, CustomerAssignment, ItemAssignment, Segment
from segments.services.assignment_events import event_rows_sql
from segments.services.assignments import WriteFields, segment_for_write
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
from segments.services.rules import rules_after_assignments_written
from segments.services.segments import SegmentFields, segment_create
from segmentservice.bulk import BulkItemResult
from segmentservice.db import atomic_with_retry
from tenants.models import Tenant

WORKSPACE_CHUNK = 1000
_ASSIGNMENTS = connection.ops.quote_name(CustomerAssignment._meta.db_table)
_CUSTOMERS = connection.ops.quote_name(Customer._meta.db_table)
_COLUMNS = (
    "tenant_id, segment_id, customer_id, legal_entity_id, assignment_type, mixins, "
    "metadata_mixins, version, created_at, modified_at"
)
T = TypeVar("T")


def _written(results: Sequence[BulkItemResult]) -> int:
    return sum(1 for result in results if result.code < 300)


def _chunks(values: Sequence[T]) -> Iterator[list[tuple[int, T]]]:
    for start in range(0, len(values), WORKSPACE_CHUNK):
        yield list(enumerate(values[start : start + WORKSPACE_CHUNK], start + 1))


@atomic_with_retry
def segment_customers_add(*, tenant: Tenant, segment_id: str, customer_ids: Sequence[str]) -> int:
    """Make customers (B2C) manual members of a segment; returns how many were written.

    On PostgreSQL the customers not yet B2C members are inserted set-based: one
    `INSERT ... SELECT` naming the ids as one array, their created events built from the
    inserted rows in the same statement (the payloads the pipeline records, see
    `event_rows_sql`); a customer already a B2C member is left as it is. Elsewhere the
    bulk pipeline writes them in chunks (it also rewrites existing ones, as a PUT does).
    """
    if connection.vendor != "postgresql":
        return _pipeline_add(tenant, segment_id, customer_ids)
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    now = timezone.now()
    select = (
        f"SELECT %s, %s, c.id, NULL, %s, '{{}}', '{{}}', 1, %s, %s FROM {_CUSTOMERS} c "
        f"WHERE c.tenant_id = %s AND c.external_id = ANY(%s) "
        f"AND NOT EXISTS (SELECT 1 FROM {_ASSIGNMENTS} a WHERE a.tenant_id = %s "
        f"AND a.segment_id = %s AND a.customer_id = c.id AND a.legal_entity_id IS NULL) "
        f"ORDER BY c.external_id"
    )
    params = [
        tenant.pk,
        segment.pk,
        AssignmentType.MANUAL.value,
        now,
        now,
        tenant.pk,
        list(dict.fromkeys(customer_ids)),
        tenant.pk,
        segment.pk,
    ]
    events, event_params = event_rows_sql(
        CustomerAssignment, EventType.CUSTOMER_ASSIGNMENT_CREATED, source="added_rows"
    )
    sql = (
        f"WITH added_rows AS (INSERT INTO {_ASSIGNMENTS} ({_COLUMNS}) {select} RETURNING *), "
        f"added_events AS ({events}) SELECT customer_id FROM added_rows"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *event_params])
        added = [pk for (pk,) in cursor.fetchall()]
    rules_after_assignments_written(
        tenant=tenant,
        segment=segment,
        upserted=[_key_row(pk, AssignmentType.MANUAL) for pk in added],
        deleted=[],
    )
    return len(added)


def _pipeline_add(tenant: Tenant, segment_id: str, customer_ids: Sequence[str]) -> int:
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
    """Remove (customer id, legal entity id or None) assignments; returns how many went.

    On PostgreSQL B2C keys (no legal entity: what a paste removes) go set-based: one
    `DELETE ... RETURNING` with their deleted events built from the deleted rows in the
    same statement. Other keys, and other databases, go through the bulk pipeline.
    """
    b2c = [customer_id for customer_id, legal_entity_id in keys if legal_entity_id is None]
    if connection.vendor != "postgresql" or len(b2c) != len(keys):
        return _pipeline_remove(tenant, segment_id, keys)
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    events, event_params = event_rows_sql(
        CustomerAssignment, EventType.CUSTOMER_ASSIGNMENT_DELETED, source="gone_rows"
    )
    sql = (
        f"WITH gone_rows AS (DELETE FROM {_ASSIGNMENTS} a USING {_CUSTOMERS} c "
        f"WHERE c.id = a.customer_id AND c.tenant_id = %s AND c.external_id = ANY(%s) "
        f"AND a.tenant_id = %s AND a.segment_id = %s AND a.legal_entity_id IS NULL "
        f"RETURNING a.*), gone_events AS ({events}) "
        f"SELECT customer_id, assignment_type FROM gone_rows"
    )
    params = [tenant.pk, list(dict.fromkeys(b2c)), tenant.pk, segment.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *event_params])
        gone = cursor.fetchall()
    rules_after_assignments_written(
        tenant=tenant,
        segment=segment,
        upserted=[],
        deleted=[_key_row(pk, kind) for pk, kind in gone],
    )
    return len(gone)


def _pipeline_remove(tenant: Tenant, segment_id: str, keys: Sequence[AssignmentKey]) -> int:
    removed = 0
    for chunk in _chunks(list(keys)):
        removed += _written(
            customer_assignments_bulk_delete(tenant=tenant, segment_id=segment_id, keys=chunk)
        )
    return removed


class _KeyRow(NamedTuple):
    """What the rules read of a B2C row written set-based (as a `CustomerAssignment` would
    show it): its customer, its key and its type. Building 50,000 model instances would
    take seconds."""

    customer_id: int
    legal_entity_id: None
    assignment_type: str


def _key_row(customer_pk: int, assignment_type: str) -> Any:
    return _KeyRow(customer_pk, None, assignment_type)


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
