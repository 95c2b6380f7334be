"""Writes of customer assignments: upsert and delete, one at a time or in bulk.

A single write goes through the same batch code as a bulk one, with one element, so
both follow the same rules: the customer (and legal entity) must exist in the tenant and
the customer must belong to the legal entity (else 400 naming it); a stale
`metadata.version` is a 409 and writes nothing; every write counts a new version,
sets `modifiedAt` and records one event. Assignments written here are `MANUAL`.

The batch code is `assignment_pipeline`'s; this module is the customer kind of it. A batch
costs a fixed number of queries whatever its size: one per kind of referenced record, one
for the existing assignments, then one INSERT, one UPDATE (or DELETE) and one INSERT of
events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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
from segments.services import assignment_pipeline as pipeline
from segments.services.assignments import UpsertOutcome, WriteFields, metadata_payload
from segmentservice.bulk import BulkItemResult
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


@dataclass(frozen=True)
class CustomerReferences:
    """The customers and legal entities a batch names, and which belong together."""

    customers: dict[str, Customer]
    legal_entities: dict[str, LegalEntity]
    memberships: set[tuple[int, int]]


class CustomerAssignmentKind(
    pipeline.AssignmentKind[
        CustomerAssignmentInput, AssignmentKey, CustomerReferences, CustomerAssignment
    ]
):
    """Customers in a segment, B2C (no legal entity) or for a legal entity (B2B)."""

    model = CustomerAssignment
    created_event = EventType.CUSTOMER_ASSIGNMENT_CREATED
    updated_event = EventType.CUSTOMER_ASSIGNMENT_UPDATED
    deleted_event = EventType.CUSTOMER_ASSIGNMENT_DELETED
    reference_fields = ("customer", "legal_entity")
    updated_columns = (*pipeline.AssignmentKind.updated_columns, "assignment_type")

    def key(self, element: CustomerAssignmentInput) -> AssignmentKey:
        return element.key

    def fixed(self) -> dict[str, Any]:
        # The API asserts the membership itself, so a rule may no longer take it away.
        return {"assignment_type": AssignmentType.MANUAL}

    def duplicate_what(self, key: AssignmentKey) -> str:
        return _describe(key)

    def written(
        self,
        tenant: Tenant,
        segment: Segment,
        upserted: Sequence[CustomerAssignment],
        deleted: Sequence[CustomerAssignment],
    ) -> None:
        """Rules: a deleted AUTOMATIC row is excluded, a PUT one (now MANUAL) no longer is;
        the rules that read this segment follow its new members."""
        if not upserted and not deleted:
            return
        # Imported here: the rules module builds on this one (the kind's event payloads).
        from segments.services import rules

        rules.rules_after_assignments_written(
            tenant=tenant, segment=segment, upserted=upserted, deleted=deleted
        )

    def version_what(self, key: AssignmentKey) -> str:
        return _describe(key)

    def references(
        self, tenant: Tenant, elements: Sequence[CustomerAssignmentInput]
    ) -> CustomerReferences:
        customers = _by_external_id(Customer, tenant, {e.customer_id for e in elements})
        legal_entities = _by_external_id(
            LegalEntity, tenant, {e.legal_entity_id for e in elements if e.legal_entity_id}
        )
        memberships = _memberships(tenant, customers.values(), legal_entities.values())
        return CustomerReferences(customers, legal_entities, memberships)

    def resolve(
        self, element: CustomerAssignmentInput, refs: CustomerReferences
    ) -> pipeline.Resolved:
        customer = refs.customers.get(element.customer_id)
        legal_entity = (
            refs.legal_entities.get(element.legal_entity_id) if element.legal_entity_id else None
        )
        problems = []
        if customer is None:
            problems.append(f"The customer with id {element.customer_id} does not exist.")
        if element.legal_entity_id and legal_entity is None:
            problems.append(f"The legal entity with id {element.legal_entity_id} does not exist.")
        if problems:
            raise UnknownReference(
                " ".join(problems), resource_id=element.legal_entity_id or element.customer_id
            )
        if legal_entity is not None and (customer.pk, legal_entity.pk) not in refs.memberships:
            raise UnknownReference(
                f"The customer with id {element.customer_id} does not belong to the legal "
                f"entity with id {element.legal_entity_id}.",
                resource_id=element.customer_id,
            )
        return {"customer": customer, "legal_entity": legal_entity}

    def existing_for_upsert(
        self, tenant: Tenant, segment: Segment, refs: CustomerReferences
    ) -> Iterable[CustomerAssignment]:
        return CustomerAssignment.objects.filter(
            tenant=tenant, segment=segment, customer__in=[c.pk for c in refs.customers.values()]
        )

    def existing_for_delete(
        self, tenant: Tenant, segment: Segment, keys: set[AssignmentKey]
    ) -> dict[AssignmentKey, CustomerAssignment]:
        rows = CustomerAssignment.objects.filter(
            tenant=tenant,
            segment=segment,
            customer__external_id__in={customer_id for customer_id, _ in keys},
        ).select_related("customer", "legal_entity")
        return {self.row_key(row): row for row in rows}

    def missing(self, segment: Segment, key: AssignmentKey) -> AssignmentNotFound:
        customer_id, legal_entity_id = key
        return AssignmentNotFound(
            assignment_missing_message(segment.external_id, customer_id, legal_entity_id),
            resource_id=customer_id,
        )

    def row_key(self, row: CustomerAssignment) -> AssignmentKey:
        return (
            row.customer.external_id,
            row.legal_entity.external_id if row.legal_entity else None,
        )

    def resource_id(self, segment: Segment, key: AssignmentKey) -> str:
        customer_id, legal_entity_id = key
        parts = [segment.external_id, customer_id] + ([legal_entity_id] if legal_entity_id else [])
        return "/".join(parts)

    def payload(self, segment: Segment, row: CustomerAssignment) -> dict[str, Any]:
        """The assignment as the API shows it, with its segment's id."""
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


CUSTOMERS = CustomerAssignmentKind()


def customer_assignment_upsert(
    *, tenant: Tenant, segment_id: str, data: CustomerAssignmentInput
) -> UpsertOutcome[CustomerAssignment]:
    """Create or replace one customer assignment (B2C without a legal entity, else B2B)."""
    return pipeline.assignment_upsert(CUSTOMERS, tenant=tenant, segment_id=segment_id, data=data)


def customer_assignments_bulk_upsert(
    *,
    tenant: Tenant,
    segment_id: str,
    elements: Sequence[tuple[int, CustomerAssignmentInput]],
) -> list[BulkItemResult]:
    """Create or replace many assignments: the valid elements, each with its request index.

    [(1, CustomerAssignmentInput("98029737", "660af2af", WriteFields(...))),
     (3, CustomerAssignmentInput("18249883", None, WriteFields(version=1)))]
    """
    return pipeline.assignments_bulk_upsert(
        CUSTOMERS, tenant=tenant, segment_id=segment_id, elements=elements
    )


def customer_assignment_delete(
    *, tenant: Tenant, segment_id: str, customer_id: str, legal_entity_id: str | None = None
) -> None:
    """Remove one assignment; raises AssignmentNotFound (404) when there is none."""
    pipeline.assignment_delete(
        CUSTOMERS, tenant=tenant, segment_id=segment_id, key=(customer_id, legal_entity_id)
    )


def customer_assignments_bulk_delete(
    *, tenant: Tenant, segment_id: str, keys: Sequence[tuple[int, AssignmentKey]]
) -> list[BulkItemResult]:
    """Remove many assignments: `(index, (customer id, legal entity id or None))` pairs."""
    return pipeline.assignments_bulk_delete(
        CUSTOMERS, tenant=tenant, segment_id=segment_id, keys=keys
    )


def customer_assignment_deleted_event(
    row: CustomerAssignment,
) -> tuple[EventType, str, dict[str, Any]]:
    """The `customer-assignment-deleted` event of a row (segment, customer, legal entity loaded)."""
    return CUSTOMERS.deleted(row)


def _by_external_id(model, tenant: Tenant, ids: set[str]) -> dict[str, Any]:
    """The tenant's rows of `model` with these ids, by id: only the columns a write and its
    documents read (a customer's attributes and names are not decoded for 200 rows)."""
    if not ids:
        return {}
    rows = model.objects.filter(tenant=tenant, external_id__in=ids).only("tenant", "external_id")
    return {row.external_id: row for row in rows}


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


def _describe(key: AssignmentKey) -> str:
    customer_id, legal_entity_id = key
    if legal_entity_id is None:
        return f"the assignment of customer {customer_id} (B2C)"
    return f"the assignment of customer {customer_id} for legal entity {legal_entity_id}"
