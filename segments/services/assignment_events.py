"""The deleted events of every assignment of some segments, for a forced segment delete.

A segment can hold 100,000 customers, and each that goes gets its
`customer-assignment-deleted` event (each item its `item-assignment-deleted`, each group
its `segment-group-assignment-deleted`), with the payload the single deletes record
(`customer_assignment_deleted_event`, `item_assignment_deleted_event`,
`group_assignment_deleted_event`). On PostgreSQL one `INSERT ... SELECT` per kind builds
those payloads in the database (tens of milliseconds for 10,000 rows, where building them
in Python takes seconds); elsewhere the rows are read in chunks and inserted a batch at a
time. tests/segments/api/test_segment_delete_events.py holds both to the same payloads.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

from segments.choices import EventType
from segments.models import (
    Category,
    Customer,
    CustomerAssignment,
    Event,
    Group,
    GroupAssignment,
    ItemAssignment,
    LegalEntity,
    Product,
    Segment,
)
from segments.services.customer_assignments import customer_assignment_deleted_event
from segments.services.events import events_record
from segments.services.group_assignments import group_assignment_deleted_event
from segments.services.item_assignments import item_assignment_deleted_event
from segmentservice.actor import current_actor
from tenants.models import Tenant

# Elsewhere than on PostgreSQL: assignments read, and events inserted, this many at a time.
BATCH = 1000

AssignmentModel = type[CustomerAssignment] | type[ItemAssignment] | type[GroupAssignment]


def assignment_deletions_record(
    *, tenant: Tenant, segments: list[Segment], model: AssignmentModel
) -> None:
    """Record the deleted event of every `model` row of `segments` (before they are deleted)."""
    if connection.vendor == "postgresql":
        _insert_select(tenant, [s.pk for s in segments], model)
    else:
        _batches(tenant, segments, model)


def _batches(tenant: Tenant, segments: list[Segment], model: AssignmentModel) -> None:
    by_pk = {s.pk: s for s in segments}
    # Only the columns the payloads show: decoding the others costs more than reading them.
    row_columns = [
        "segment_id",
        "mixins",
        "metadata_mixins",
        "created_at",
        "modified_at",
        "version",
    ]
    if model is CustomerAssignment:
        rows = model.objects.select_related("customer", "legal_entity").only(
            *row_columns, "assignment_type", "customer__external_id", "legal_entity__external_id"
        )
        to_event = customer_assignment_deleted_event
    elif model is GroupAssignment:
        rows = model.objects.select_related("group").only(
            *row_columns, "group__external_id", "group__name"
        )
        to_event = group_assignment_deleted_event
    else:
        rows = model.objects.select_related("product", "category").only(
            *row_columns,
            "type",
            "product__external_id",
            "product__code",
            "category__external_id",
            "category__code",
        )
        to_event = item_assignment_deleted_event
    batch: list[tuple[EventType, str, dict[str, Any]]] = []
    for row in (
        rows.filter(tenant=tenant, segment_id__in=list(by_pk))
        .order_by("pk")
        .iterator(chunk_size=BATCH)
    ):
        row.segment = by_pk[row.segment_id]
        batch.append(to_event(row))
        if len(batch) == BATCH:
            events_record(tenant=tenant, events=batch)
            batch = []
    events_record(tenant=tenant, events=batch)


def _instant(column: str) -> str:
    """`format_instant` in SQL: UTC, milliseconds (truncated), `Z`."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


def _if_set(key: str, column: str) -> str:
    """`{key: column}` when the JSON column holds something, else `{}` (Python's truthiness)."""
    return (
        f"CASE WHEN {column} IS NULL OR {column} IN ('{{}}', '[]', 'null', '\"\"', '0', 'false') "
        f"THEN '{{}}'::jsonb ELSE jsonb_build_object('{key}', {column}) END"
    )


def _insert_select(tenant: Tenant, segment_pks: list[int], model: AssignmentModel) -> None:
    sql, params = event_rows_sql(
        model,
        EventType.CUSTOMER_ASSIGNMENT_DELETED
        if model is CustomerAssignment
        else EventType.ITEM_ASSIGNMENT_DELETED,
        source=connection.ops.quote_name(model._meta.db_table),
        where="a.tenant_id = %s AND a.segment_id = ANY(%s)",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, tenant.pk, segment_pks])


def event_rows_sql(
    model: AssignmentModel,
    event_type: EventType,
    *,
    source: str,
    where: str = "TRUE",
    type_sql: str | None = None,
    actor_sql: str | None = None,
    order_by: str = "a.id",
) -> tuple[str, list[Any]]:
    """PostgreSQL: `INSERT INTO events SELECT ...` of one event per assignment row of `source`.

    `source` is the table, or a CTE of rows just inserted or deleted (`RETURNING *`), read
    as `a`; `where` filters it (its parameters follow the returned ones). The payloads are
    the ones the single writes record. `type_sql` and `actor_sql`, SQL over `a` and its
    segment `s`, replace `event_type` and the current actor where they vary by row.
    """
    table = {
        m: connection.ops.quote_name(m._meta.db_table)
        for m in (Event, Segment, Customer, LegalEntity, Product, Category, Group, model)
    }
    metadata = (
        f"jsonb_build_object('createdAt', {_instant('a.created_at')}, "
        f"'modifiedAt', {_instant('a.modified_at')}, 'version', a.version) "
        f"|| {_if_set('mixins', 'a.metadata_mixins')}"
    )
    if model is CustomerAssignment:
        resource_id = "s.external_id || '/' || c.external_id || COALESCE('/' || le.external_id, '')"
        payload = (
            "jsonb_build_object('segmentId', s.external_id, "
            "'customer', jsonb_build_object('id', c.external_id), "
            f"'assignmentType', a.assignment_type, 'metadata', {metadata}) "
            "|| CASE WHEN le.id IS NULL THEN '{}'::jsonb "
            "ELSE jsonb_build_object('legalEntity', jsonb_build_object('id', le.external_id)) END "
            f"|| {_if_set('mixins', 'a.mixins')}"
        )
        joins = (
            f"JOIN {table[Customer]} c ON c.id = a.customer_id "
            f"LEFT JOIN {table[LegalEntity]} le ON le.id = a.legal_entity_id"
        )
    elif model is GroupAssignment:
        event_type = EventType.GROUP_ASSIGNMENT_DELETED
        resource_id = "s.external_id || '/groups/' || g.external_id"
        payload = (
            "jsonb_build_object('segmentId', s.external_id, "
            "'group', jsonb_build_object('id', g.external_id, 'name', g.name), "
            f"'metadata', {metadata}) "
            f"|| {_if_set('mixins', 'a.mixins')}"
        )
        joins = f"JOIN {table[Group]} g ON g.id = a.group_id"
    else:
        item_id = "CASE WHEN a.type = 'PRODUCT' THEN p.external_id ELSE k.external_id END"
        item_code = "CASE WHEN a.type = 'PRODUCT' THEN p.code ELSE k.code END"
        resource_id = f"s.external_id || '/' || a.type || '/' || {item_id}"
        payload = (
            "jsonb_build_object('segmentId', s.external_id, "
            f"'item', jsonb_build_object('id', {item_id}, 'code', {item_code}), "
            f"'type', a.type, 'metadata', {metadata}) "
            f"|| {_if_set('mixins', 'a.mixins')}"
        )
        joins = (
            f"LEFT JOIN {table[Product]} p ON p.id = a.product_id "
            f"LEFT JOIN {table[Category]} k ON k.id = a.category_id"
        )
    params: list[Any] = []
    if type_sql is None:
        type_sql = "%s"
        params.append(event_type.value)
    if actor_sql is None:
        actor_sql = "%s"
        params.append(current_actor())
    sql = (
        f"INSERT INTO {table[Event]} (tenant_id, type, resource_id, payload, actor, created_at) "
        f"SELECT a.tenant_id, {type_sql}, {resource_id}, {payload}, {actor_sql}, %s "
        f"FROM {source} a JOIN {table[Segment]} s ON s.id = a.segment_id {joins} "
        f"WHERE {where} ORDER BY {order_by}"
    )
    return sql, [*params, timezone.now()]
