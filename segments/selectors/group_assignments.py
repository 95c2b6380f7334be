"""Reads of group assignments: the directory groups assigned to a segment."""

from __future__ import annotations

from django.db.models import QuerySet

from segments.exceptions import AssignmentNotFound
from segments.models import GroupAssignment, Segment
from tenants.models import Tenant
from tenants.selectors import tenant_rows


def group_assignment_list(
    *,
    tenant: Tenant,
    segment: Segment,
    queryset: QuerySet[GroupAssignment] | None = None,
) -> QuerySet[GroupAssignment]:
    """A segment's group assignments, with the segment and the group joined in.

    Starts from `queryset` (kept to the tenant) or all the tenant's group assignments.
    """
    if queryset is None:
        queryset = GroupAssignment.objects.filter(tenant=tenant)
    return (
        tenant_rows(queryset, tenant=tenant)
        .filter(segment=segment)
        .select_related("segment", "group")
    )


def group_assignment_get(
    *,
    tenant: Tenant,
    segment: Segment,
    group_id: str,
    queryset: QuerySet[GroupAssignment] | None = None,
) -> GroupAssignment:
    """The assignment of one group to `segment` (among `queryset`); raises AssignmentNotFound."""
    if queryset is None:
        queryset = group_assignment_list(tenant=tenant, segment=segment)
    assignment = tenant_rows(queryset, tenant=tenant).filter(group__external_id=group_id).first()
    if assignment is None:
        raise AssignmentNotFound(
            group_missing_message(segment.external_id, group_id), resource_id=group_id
        )
    return assignment


def group_missing_message(segment_id: str, group_id: str) -> str:
    """The 404 message for a group assignment that does not exist."""
    return f"The group with id {group_id} is not assigned to the segment with id {segment_id}."
