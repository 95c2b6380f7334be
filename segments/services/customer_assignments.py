"""Writes of customer assignments: upsert and delete, one at a time or in bulk.

A single write goes through the same batch code as a bulk one, with one element, so
both follow the same rules: the customer (and legal entity) must exist in the tenant and
the customer must belong to the legal entity (else 400 naming it); a stale
`metadata.version` is a 409 and writes nothing; every write counts a new version,
sets `modifiedAt` and records one event. Assignments written here are `MANUAL`.

A batch costs a fixed number of queries whatever its size: one per kind of referenced
record, one for the existing assignments, then one INSERT, one UPDATE (or DELETE) and
one INSERT of events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from segments.choices import AssignmentType, EventType
from segments.exceptions import AssignmentNotFound, UnknownReference
from segments.models import (
    Customer,
    CustomerAssignment,
    CustomerLegalEntity,
    LegalEntity,
    Segment,
)
from segments.selectors.customer_assignments import assignment_missing_message
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

# (customer id, legal entity id or None for B2C): what identifies an assignment in a segment.
AssignmentKey = tuple[str, str | None]


@dataclass(frozen=True)
class CustomerAssignmentInput:
    """One assignment to write: `{"customerId", "legalEntityId"?, "mixins", "metadata"}`."""

    customer_id: str
    legal_entity_id: str | None
    fields: WriteFields

    @property
    def key(self) -> AssignmentKey:
        """Which assignment this is."""
        return self.customer_id, self.legal_entity_id


@atomic_with_retry
def customer_assignment_upsert(
    *, tenant: Tenant, segment_id: str, data: CustomerAssignmentInput
) -> UpsertOutcome[CustomerAssignment]:
    """Create or replace one customer assignment (B2C without a legal entity, else B2B)."""
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    [outcome] = _upsert(tenant=tenant, segment=segment, elements=[data])
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


@atomic_with_retry
def customer_assignments_bulk_upsert(
    *,
    tenant: Tenant,
    segment_id: str,
    elements: Sequence[CustomerAssignmentInput | ServiceError],
) -> list[BulkItemResult]:
    """Create or replace many assignments; elements that failed validation pass through.

    [{"customerId": "98029737", "legalEntityId": "660af2af", "mixins": {...}},
     {"customerId": "18249883", "metadata": {"version": 1}}]
    """
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    outcomes = _upsert(tenant=tenant, segment=segment, elements=elements)
    return [bulk_result(index, outcome) for index, outcome in enumerate(outcomes, start=1)]


@atomic_with_retry
def customer_assignment_delete(
    *, tenant: Tenant, segment_id: str, customer_id: str, legal_entity_id: str | None = None
) -> None:
    """Remove one assignment; raises AssignmentNotFound (404) when there is none."""
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    [outcome] = _delete(tenant=tenant, segment=segment, keys=[(customer_id, legal_entity_id)])
    if isinstance(outcome, ServiceError):
        raise outcome


@atomic_with_retry
def customer_assignments_bulk_delete(
    *, tenant: Tenant, segment_id: str, keys: Sequence[AssignmentKey | ServiceError]
) -> list[BulkItemResult]:
    """Remove many assignments: `[{"customerId", "legalEntityId"?}]`; a missing one is a 404 entry."""
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    outcomes = _delete(tenant=tenant, segment=segment, keys=keys)
    return [bulk_result(index, outcome) for index, outcome in enumerate(outcomes, start=1)]


# --- The batch code ---------------------------------------------------------------------------


def _upsert(
    *,
    tenant: Tenant,
    segment: Segment,
    elements: Sequence[CustomerAssignmentInput | ServiceError],
) -> list[UpsertOutcome[CustomerAssignment] | ServiceError]:
    inputs = [e for e in elements if isinstance(e, CustomerAssignmentInput)]
    customers = _by_external_id(Customer, tenant, {e.customer_id for e in inputs})
    legal_entities = _by_external_id(
        LegalEntity, tenant, {e.legal_entity_id for e in inputs if e.legal_entity_id}
    )
    memberships = _memberships(tenant, customers.values(), legal_entities.values())
    existing = {
        (row.customer_id, row.legal_entity_id): row
        for row in CustomerAssignment.objects.filter(
            tenant=tenant, segment=segment, customer__in=[c.pk for c in customers.values()]
        )
    }

    now = timezone.now()
    outcomes: list[UpsertOutcome[CustomerAssignment] | ServiceError] = []
    seen: set[AssignmentKey] = set()
    to_create: list[CustomerAssignment] = []
    to_update: list[CustomerAssignment] = []
    events: list[tuple[EventType, str, dict[str, Any]]] = []
    for element in elements:
        if isinstance(element, ServiceError):
            outcomes.append(element)
            continue
        if element.key in seen:
            outcomes.append(duplicate_error(_describe(element.key)))
            continue
        seen.add(element.key)
        try:
            customer, legal_entity = _references(element, customers, legal_entities, memberships)
            row = existing.get((customer.pk, legal_entity.pk if legal_entity else None))
            if row is not None:
                version_check(row, element.fields.version, _describe(element.key))
        except ServiceError as error:
            outcomes.append(error)
            continue
        created = row is None
        if created:
            row = CustomerAssignment(
                tenant=tenant,
                segment=segment,
                customer=customer,
                legal_entity=legal_entity,
                assignment_type=AssignmentType.MANUAL,
                mixins=element.fields.mixins,
                metadata_mixins=element.fields.metadata_mixins,
                created_at=now,
                modified_at=now,
            )
            to_create.append(row)
        else:
            apply_write(row, element.fields, now)
            # The API asserts the membership itself, so a rule may no longer take it away.
            row.assignment_type = AssignmentType.MANUAL
            row.customer, row.legal_entity = customer, legal_entity
            to_update.append(row)
        outcomes.append(UpsertOutcome(created=created, assignment=row))
        event_type = (
            EventType.CUSTOMER_ASSIGNMENT_CREATED
            if created
            else EventType.CUSTOMER_ASSIGNMENT_UPDATED
        )
        events.append((event_type, _resource_id(segment, element.key), _payload(segment, row)))

    CustomerAssignment.objects.bulk_create(to_create)
    rows_update(
        to_update, ["mixins", "metadata_mixins", "version", "modified_at", "assignment_type"]
    )
    events_record(tenant=tenant, events=events)
    return outcomes


def _delete(
    *, tenant: Tenant, segment: Segment, keys: Sequence[AssignmentKey | ServiceError]
) -> list[None | ServiceError]:
    wanted = [k for k in keys if not isinstance(k, ServiceError)]
    existing = {
        (row.customer.external_id, row.legal_entity.external_id if row.legal_entity else None): row
        for row in CustomerAssignment.objects.filter(
            tenant=tenant,
            segment=segment,
            customer__external_id__in={customer_id for customer_id, _ in wanted},
        ).select_related("customer", "legal_entity")
    }
    outcomes: list[None | ServiceError] = []
    seen: set[AssignmentKey] = set()
    doomed: list[int] = []
    events: list[tuple[EventType, str, dict[str, Any]]] = []
    for key in keys:
        if isinstance(key, ServiceError):
            outcomes.append(key)
            continue
        if key in seen:
            outcomes.append(duplicate_error(_describe(key)))
            continue
        seen.add(key)
        row = existing.get(key)
        if row is None:
            customer_id, legal_entity_id = key
            outcomes.append(
                AssignmentNotFound(
                    assignment_missing_message(segment.external_id, customer_id, legal_entity_id),
                    resource_id=customer_id,
                )
            )
            continue
        doomed.append(row.pk)
        events.append(
            (
                EventType.CUSTOMER_ASSIGNMENT_DELETED,
                _resource_id(segment, key),
                _payload(segment, row),
            )
        )
        outcomes.append(None)
    if doomed:
        CustomerAssignment.objects.filter(tenant=tenant, pk__in=doomed).delete()
    events_record(tenant=tenant, events=events)
    return outcomes


def _by_external_id(model, tenant: Tenant, ids: set[str]) -> dict[str, Any]:
    if not ids:
        return {}
    return {
        row.external_id: row for row in model.objects.filter(tenant=tenant, external_id__in=ids)
    }


def _memberships(tenant: Tenant, customers, legal_entities) -> set[tuple[int, int]]:
    customer_pks = [c.pk for c in customers]
    legal_entity_pks = [le.pk for le in legal_entities]
    if not customer_pks or not legal_entity_pks:
        return set()
    return set(
        CustomerLegalEntity.objects.filter(
            tenant=tenant, customer__in=customer_pks, legal_entity__in=legal_entity_pks
        ).values_list("customer_id", "legal_entity_id")
    )


def _references(
    element: CustomerAssignmentInput,
    customers: dict[str, Customer],
    legal_entities: dict[str, LegalEntity],
    memberships: set[tuple[int, int]],
) -> tuple[Customer, LegalEntity | None]:
    """The element's customer and legal entity; raises UnknownReference naming what is wrong."""
    customer = customers.get(element.customer_id)
    legal_entity = legal_entities.get(element.legal_entity_id) if element.legal_entity_id else None
    problems = []
    if customer is None:
        problems.append(f"The customer with id {element.customer_id} does not exist.")
    if element.legal_entity_id and legal_entity is None:
        problems.append(f"The legal entity with id {element.legal_entity_id} does not exist.")
    if problems:
        raise UnknownReference(
            " ".join(problems), resource_id=element.legal_entity_id or element.customer_id
        )
    if legal_entity is not None and (customer.pk, legal_entity.pk) not in memberships:
        raise UnknownReference(
            f"The customer with id {element.customer_id} does not belong to the legal entity "
            f"with id {element.legal_entity_id}.",
            resource_id=element.customer_id,
        )
    return customer, legal_entity


def _describe(key: AssignmentKey) -> str:
    customer_id, legal_entity_id = key
    if legal_entity_id is None:
        return f"the assignment of customer {customer_id} (B2C)"
    return f"the assignment of customer {customer_id} for legal entity {legal_entity_id}"


def customer_assignment_deleted_event(
    row: CustomerAssignment,
) -> tuple[EventType, str, dict[str, Any]]:
    """The `customer-assignment-deleted` event of a row (segment, customer, legal entity loaded)."""
    key = (row.customer.external_id, row.legal_entity.external_id if row.legal_entity else None)
    return (
        EventType.CUSTOMER_ASSIGNMENT_DELETED,
        _resource_id(row.segment, key),
        _payload(row.segment, row),
    )


def _resource_id(segment: Segment, key: AssignmentKey) -> str:
    customer_id, legal_entity_id = key
    parts = [segment.external_id, customer_id] + ([legal_entity_id] if legal_entity_id else [])
    return "/".join(parts)


def _payload(segment: Segment, row: CustomerAssignment) -> dict[str, Any]:
    """The event payload: the assignment as the API shows it, with its segment's id."""
    payload: dict[str, Any] = {
        "segmentId": segment.external_id,
        "customer": {"id": row.customer.external_id},
    }
    if row.legal_entity is not None:
        payload["legalEntity"] = {"id": row.legal_entity.external_id}
    payload["assignmentType"] = row.assignment_type
    if row.mixins:
        payload["mixins"] = row.mixins
    payload["metadata"] = metadata_payload(row)
    return payload
