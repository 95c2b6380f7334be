"""Writes of group assignments: assign a directory group to a segment, or take it away.

The group kind of `assignment_pipeline`: the group must exist in the tenant's directory
and hold customers (`userType` CUSTOMER), else 400 naming it; a stale `metadata.version`
is a 409 and writes nothing; every write counts a new version, sets `modifiedAt` and
records one `segment-group-assignment-*` event. `group_assignments_prune` takes away the
assignments of groups that no longer hold customers (or are about to leave the
directory), each with its deleted event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from segments.choices import EventType, GroupUserType
from segments.exceptions import AssignmentNotFound, UnknownReference
from segments.models import Group, GroupAssignment, Segment
from segments.selectors.group_assignments import group_missing_message
from segments.services import assignment_pipeline as pipeline
from segments.services.assignments import UpsertOutcome, WriteFields, metadata_payload
from segments.services.events import events_record
from segmentservice.bulk import BulkItemResult
from tenants.models import Tenant


@dataclass(frozen=True)
class GroupAssignmentInput:
    """One group assignment to write: the path's group id and `{"mixins", "metadata"}`."""

    group_id: str
    fields: WriteFields


class GroupAssignmentKind(
    pipeline.AssignmentKind[GroupAssignmentInput, str, dict[str, Group], GroupAssignment]
):
    """The directory groups of a segment: the key is the group's id."""

    model = GroupAssignment
    created_event = EventType.GROUP_ASSIGNMENT_CREATED
    updated_event = EventType.GROUP_ASSIGNMENT_UPDATED
    deleted_event = EventType.GROUP_ASSIGNMENT_DELETED
    reference_fields = ("group",)

    def key(self, element: GroupAssignmentInput) -> str:
        return element.group_id

    def duplicate_what(self, key: str) -> str:
        return f"the group with id {key}"

    def version_what(self, key: str) -> str:
        return f"the group assignment {key}"

    def references(
        self, tenant: Tenant, elements: Sequence[GroupAssignmentInput]
    ) -> dict[str, Group]:
        wanted = {e.group_id for e in elements}
        if not wanted:
            return {}
        rows = Group.objects.filter(tenant=tenant, external_id__in=wanted)
        return {row.external_id: row for row in rows}

    def resolve(self, element: GroupAssignmentInput, refs: dict[str, Group]) -> pipeline.Resolved:
        group = refs.get(element.group_id)
        if group is None:
            raise UnknownReference(
                f"The group with id {element.group_id} does not exist.",
                resource_id=element.group_id,
            )
        if group.user_type != GroupUserType.CUSTOMER:
            raise UnknownReference(
                f"The group with id {element.group_id} has userType {group.user_type}: only "
                "groups with userType CUSTOMER can be assigned to segments.",
                resource_id=element.group_id,
            )
        return {"group": group}

    def existing_for_upsert(
        self, tenant: Tenant, segment: Segment, refs: dict[str, Group]
    ) -> Iterable[GroupAssignment]:
        if not refs:
            return []
        return GroupAssignment.objects.filter(
            tenant=tenant, segment=segment, group__in=[group.pk for group in refs.values()]
        )

    def existing_for_delete(
        self, tenant: Tenant, segment: Segment, keys: set[str]
    ) -> dict[str, GroupAssignment]:
        if not keys:
            return {}
        rows = GroupAssignment.objects.filter(
            tenant=tenant, segment=segment, group__external_id__in=keys
        ).select_related("group")
        return {self.row_key(row): row for row in rows}

    def missing(self, segment: Segment, key: str) -> AssignmentNotFound:
        return AssignmentNotFound(group_missing_message(segment.external_id, key), resource_id=key)

    def row_key(self, row: GroupAssignment) -> str:
        return row.group.external_id

    def resource_id(self, segment: Segment, key: str) -> str:
        return f"{segment.external_id}/groups/{key}"

    def payload(self, segment: Segment, row: GroupAssignment) -> dict[str, Any]:
        """The assignment as the API shows it, the group's name as the whole map."""
        payload: dict[str, Any] = {
            "segmentId": segment.external_id,
            "group": {"id": row.group.external_id, "name": row.group.name or {}},
        }
        if row.mixins:
            payload["mixins"] = row.mixins
        payload["metadata"] = metadata_payload(row)
        return payload

    def written(
        self,
        tenant: Tenant,
        segment: Segment,
        upserted: Sequence[GroupAssignment],
        deleted: Sequence[GroupAssignment],
    ) -> None:
        """Rules reading this segment (`segments.id`) follow the groups' members."""
        if not upserted and not deleted:
            return
        # Imported here: the rules module builds on the assignment services.
        from segments.services import rules

        rules.rules_after_group_assignments_written(
            tenant=tenant,
            segment=segment,
            group_pks=[row.group_id for row in [*upserted, *deleted]],
        )


GROUPS = GroupAssignmentKind()


def group_assignment_upsert(
    *, tenant: Tenant, segment_id: str, data: GroupAssignmentInput
) -> UpsertOutcome[GroupAssignment]:
    """Assign a group to a segment, or replace its assignment: `PUT .../groups/{groupId}`."""
    return pipeline.assignment_upsert(GROUPS, tenant=tenant, segment_id=segment_id, data=data)


def group_assignments_bulk_upsert(
    *, tenant: Tenant, segment_id: str, elements: Sequence[tuple[int, GroupAssignmentInput]]
) -> list[BulkItemResult]:
    """Assign many groups to a segment (the segment import): one result per element."""
    return pipeline.assignments_bulk_upsert(
        GROUPS, tenant=tenant, segment_id=segment_id, elements=elements
    )


def group_assignment_delete(*, tenant: Tenant, segment_id: str, group_id: str) -> None:
    """Take a group off a segment; raises AssignmentNotFound (404) when it is not on it."""
    pipeline.assignment_delete(GROUPS, tenant=tenant, segment_id=segment_id, key=group_id)


def group_assignments_bulk_delete(
    *, tenant: Tenant, segment_id: str, keys: Sequence[tuple[int, str]]
) -> list[BulkItemResult]:
    """Take many groups off a segment: `(index, group id)` pairs; a missing one is a 404 entry."""
    return pipeline.assignments_bulk_delete(GROUPS, tenant=tenant, segment_id=segment_id, keys=keys)


def group_assignment_deleted_event(
    row: GroupAssignment,
) -> tuple[EventType, str, dict[str, Any]]:
    """The `segment-group-assignment-deleted` event of a row (segment and group loaded)."""
    return GROUPS.deleted(row)


def group_saved(*, tenant: Tenant, group: Group) -> int:
    """After a group is written (the admin): a group that does not hold customers loses its
    assignments, with their deleted events; returns how many went."""
    if group.user_type == GroupUserType.CUSTOMER:
        return 0
    return group_assignments_prune(
        tenant=tenant, assignments=GroupAssignment.objects.filter(group=group)
    )


def group_assignments_prune(*, tenant: Tenant, assignments: QuerySet[GroupAssignment]) -> int:
    """Delete the tenant's `assignments`, each with its deleted event; returns how many.

    Called inside the caller's transaction, for groups that stop holding customers or
    leave the directory (and, with them, the legal entities they are bound to).
    """
    rows = list(assignments.filter(tenant=tenant).select_related("segment", "group").order_by("pk"))
    if not rows:
        return 0
    events_record(tenant=tenant, events=[group_assignment_deleted_event(row) for row in rows])
    GroupAssignment.objects.filter(tenant=tenant, pk__in=[row.pk for row in rows]).delete()
    return len(rows)
