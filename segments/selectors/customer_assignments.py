"""Reads of customer assignments: who is in a segment, B2C or for a legal entity (B2B)."""

from __future__ import annotations

from django.db.models import Count, Exists, Q, QuerySet

from segments.exceptions import AssignmentNotFound
from segments.models import CustomerAssignment, CustomerLegalEntity, Segment
from tenants.models import Tenant
from tenants.selectors import tenant_rows


def customer_context_q(*, tenant: Tenant, customer_id: str, legal_entity_id: str | None) -> Q:
    """The customer assignments that count for a customer, acting perhaps for a legal entity.

    A legal entity narrows only a customer who belongs to more than one: then only their
    assignments for that legal entity count. For anyone else (no legal entity given, or a
    customer of one legal entity or none) all their assignments, B2C and B2B, count.
    """
    condition = Q(customer__external_id=customer_id)
    if legal_entity_id is None:
        return condition
    several = (
        CustomerLegalEntity.objects.filter(
            tenant=tenant, customer__tenant=tenant, customer__external_id=customer_id
        )
        .values("customer")
        .annotate(memberships=Count("pk"))
        .filter(memberships__gt=1)
    )
    return condition & (Q(legal_entity__external_id=legal_entity_id) | ~Exists(several))


def customer_assignment_list(
    *,
    tenant: Tenant,
    segment: Segment,
    customer_id: str | None = None,
    legal_entity_id: str | None = None,
    queryset: QuerySet[CustomerAssignment] | None = None,
) -> QuerySet[CustomerAssignment]:
    """A segment's customer assignments, with the customer and legal entity joined in.

    Starts from `queryset` (kept to the tenant) or all the tenant's customer assignments.
    `customer_id` keeps only that customer's assignments (a customer reading its own),
    narrowed by `legal_entity_id` as `customer_context_q` says.
    """
    if queryset is None:
        queryset = CustomerAssignment.objects.filter(tenant=tenant)
    queryset = (
        tenant_rows(queryset, tenant=tenant)
        .filter(segment=segment)
        .select_related("customer", "legal_entity")
    )
    if customer_id is not None:
        queryset = queryset.filter(
            customer_context_q(
                tenant=tenant, customer_id=customer_id, legal_entity_id=legal_entity_id
            )
        )
    return queryset


def customer_assignment_get(
    *,
    tenant: Tenant,
    segment: Segment,
    customer_id: str,
    legal_entity_id: str | None = None,
    queryset: QuerySet[CustomerAssignment] | None = None,
) -> CustomerAssignment:
    """The B2C assignment (no `legal_entity_id`) or the B2B one; raises AssignmentNotFound.

    It is looked for among `queryset` (rows of `customer_assignment_list` for `segment`,
    perhaps narrowed further), by default among all the segment's.
    """
    if queryset is None:
        queryset = customer_assignment_list(tenant=tenant, segment=segment)
    queryset = tenant_rows(queryset, tenant=tenant).filter(customer__external_id=customer_id)
    if legal_entity_id is None:
        queryset = queryset.filter(legal_entity__isnull=True)
    else:
        queryset = queryset.filter(legal_entity__external_id=legal_entity_id)
    assignment = queryset.first()
    if assignment is None:
        raise AssignmentNotFound(
            assignment_missing_message(segment.external_id, customer_id, legal_entity_id),
            resource_id=customer_id,
        )
    return assignment


def assignment_missing_message(
    segment_id: str, customer_id: str, legal_entity_id: str | None
) -> str:
    """The 404 message for a customer assignment that does not exist."""
    if legal_entity_id is None:
        return (
            f"The customer with id {customer_id} is not assigned to the segment with id "
            f"{segment_id} (B2C)."
        )
    return (
        f"The customer with id {customer_id} for the legal entity with id {legal_entity_id} "
        f"is not assigned to the segment with id {segment_id}."
    )
