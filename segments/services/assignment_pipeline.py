"""The one batch algorithm behind every kind of assignment write: upsert and delete.

A kind (customer assignments, item assignments of one type, ...) is an `AssignmentKind`:
what identifies an assignment in a segment (its key), how the records it references are
loaded and resolved, its model, its events and its event payload. The pipeline does the
rest the same way for every kind:

    kind = CustomerAssignmentKind()
    outcomes = upsert_batch(kind, tenant=t, segment=s, elements=[(1, input1), (2, input2)])
    outcomes = delete_batch(kind, tenant=t, segment=s, keys=[(1, key1), (2, key2)])
    results = [bulk_result(index, outcome) for index, outcome in outcomes]

The elements are the valid ones only, each with its index in the request (counting from
1); the caller reports the elements that failed validation itself. A batch costs a fixed
number of queries whatever its size: the kind's reference lookups, one for the existing
assignments, then one INSERT, one UPDATE (or DELETE) and one INSERT of events. The
caller holds the segment's lock (`segment_for_write`) and the transaction.

Adding a kind: a subclass of `AssignmentKind` with its key, its reference lookup
(`references`, `resolve`), its existing-row lookups and its event payload; then the four
public services (`assignment_upsert`, ...) serve it as they serve the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from django.db.models import Model
from django.utils import timezone

from segments.choices import EventType
from segments.exceptions import AssignmentNotFound
from segments.models import Segment, Versioned
from segments.services.assignments import (
    UpsertOutcome,
    WriteFields,
    apply_write,
    bulk_result,
    duplicate_error,
    segment_for_write,
    version_check,
)
from segments.services.events import events_record
from segmentservice.bulk import BulkItemResult
from segmentservice.db import atomic_with_retry, rows_update
from segmentservice.exceptions import ServiceError
from tenants.models import Tenant

Input = TypeVar("Input")  # one element of an upsert: its key and its WriteFields
Key = TypeVar("Key")  # what identifies an assignment of a segment, in the API's ids
Refs = TypeVar("Refs")  # the referenced records a batch loads at once
Row = TypeVar("Row", bound=Versioned)

Event = tuple[EventType, str, dict[str, Any]]
# The referenced records of one assignment, by the assignment's foreign key field.
Resolved = Mapping[str, Model | None]


class AssignmentKind(Generic[Input, Key, Refs, Row]):
    """What one kind of assignment brings to the pipeline; the rest is shared."""

    model: type[Row]
    created_event: EventType
    updated_event: EventType
    deleted_event: EventType
    # The foreign keys that `resolve` fills; their ids identify a stored row.
    reference_fields: tuple[str, ...]
    # What an update writes besides the referenced records.
    updated_columns: ClassVar[tuple[str, ...]] = (
        "mixins",
        "metadata_mixins",
        "version",
        "modified_at",
    )

    def key(self, element: Input) -> Key:
        """Which assignment the element writes."""
        raise NotImplementedError

    def fields(self, element: Input) -> WriteFields:
        """The element's writable fields."""
        return element.fields

    def fixed(self) -> dict[str, Any]:
        """Columns every row this kind writes gets, on create and on update."""
        return {}

    def duplicate_what(self, key: Key) -> str:
        """Names the element in the 409 for a key repeated in one request."""
        raise NotImplementedError

    def version_what(self, key: Key) -> str:
        """Names the assignment in the 409 for a stale version."""
        raise NotImplementedError

    def references(self, tenant: Tenant, elements: Sequence[Input]) -> Refs:
        """The records the elements reference, loaded at once."""
        raise NotImplementedError

    def resolve(self, element: Input, refs: Refs) -> Resolved:
        """The element's records by foreign key; raises UnknownReference naming what is wrong."""
        raise NotImplementedError

    def existing_for_upsert(self, tenant: Tenant, segment: Segment, refs: Refs) -> Iterable[Row]:
        """The segment's stored assignments that the referenced records may have."""
        raise NotImplementedError

    def existing_for_delete(
        self, tenant: Tenant, segment: Segment, keys: set[Key]
    ) -> dict[Key, Row]:
        """The segment's stored assignments of some keys, by key, references loaded."""
        raise NotImplementedError

    def missing(self, segment: Segment, key: Key) -> AssignmentNotFound:
        """The 404 for a key the segment does not have."""
        raise NotImplementedError

    def row_key(self, row: Row) -> Key:
        """The key of a stored row (its references loaded)."""
        raise NotImplementedError

    def resource_id(self, segment: Segment, key: Key) -> str:
        """The event's resource id."""
        raise NotImplementedError

    def payload(self, segment: Segment, row: Row) -> dict[str, Any]:
        """The event payload: the assignment as the API shows it."""
        raise NotImplementedError

    def written(
        self, tenant: Tenant, segment: Segment, upserted: Sequence[Row], deleted: Sequence[Row]
    ) -> None:
        """After a batch wrote and removed rows, in its transaction (e.g. for rules)."""

    def deleted(self, row: Row) -> Event:
        """The deleted event of a row (segment and references loaded)."""
        return (
            self.deleted_event,
            self.resource_id(row.segment, self.row_key(row)),
            self.payload(row.segment, row),
        )


# --- The public services, for any kind -------------------------------------------------------


@atomic_with_retry
def assignment_upsert(
    kind: AssignmentKind[Input, Key, Refs, Row], *, tenant: Tenant, segment_id: str, data: Input
) -> UpsertOutcome[Row]:
    """Create or replace one assignment; raises its error."""
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    [(_, outcome)] = upsert_batch(kind, tenant=tenant, segment=segment, elements=[(1, data)])
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


@atomic_with_retry
def assignments_bulk_upsert(
    kind: AssignmentKind[Input, Key, Refs, Row],
    *,
    tenant: Tenant,
    segment_id: str,
    elements: Sequence[tuple[int, Input]],
) -> list[BulkItemResult]:
    """Create or replace many assignments: one result per (index, element), in order."""
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    outcomes = upsert_batch(kind, tenant=tenant, segment=segment, elements=elements)
    return [bulk_result(index, outcome) for index, outcome in outcomes]


@atomic_with_retry
def assignment_delete(
    kind: AssignmentKind[Input, Key, Refs, Row], *, tenant: Tenant, segment_id: str, key: Key
) -> None:
    """Remove one assignment; raises AssignmentNotFound (404) when there is none."""
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    [(_, outcome)] = delete_batch(kind, tenant=tenant, segment=segment, keys=[(1, key)])
    if isinstance(outcome, ServiceError):
        raise outcome


@atomic_with_retry
def assignments_bulk_delete(
    kind: AssignmentKind[Input, Key, Refs, Row],
    *,
    tenant: Tenant,
    segment_id: str,
    keys: Sequence[tuple[int, Key]],
) -> list[BulkItemResult]:
    """Remove many assignments: one result per (index, key); a missing one is a 404 entry."""
    segment = segment_for_write(tenant=tenant, segment_id=segment_id)
    outcomes = delete_batch(kind, tenant=tenant, segment=segment, keys=keys)
    return [bulk_result(index, outcome) for index, outcome in outcomes]


# --- The batch code ---------------------------------------------------------------------------


def upsert_batch(
    kind: AssignmentKind[Input, Key, Refs, Row],
    *,
    tenant: Tenant,
    segment: Segment,
    elements: Sequence[tuple[int, Input]],
) -> list[tuple[int, UpsertOutcome[Row] | ServiceError]]:
    """Create or replace the elements' assignments of a locked segment; outcomes in order."""
    refs = kind.references(tenant, [element for _, element in elements])
    existing = {
        tuple(getattr(row, f"{name}_id") for name in kind.reference_fields): row
        for row in kind.existing_for_upsert(tenant, segment, refs)
    }

    now = timezone.now()
    outcomes: list[tuple[int, UpsertOutcome[Row] | ServiceError]] = []
    seen: set[Key] = set()
    to_create: list[Row] = []
    to_update: list[Row] = []
    events: list[Event] = []
    for index, element in elements:
        key = kind.key(element)
        if key in seen:
            outcomes.append((index, duplicate_error(kind.duplicate_what(key))))
            continue
        seen.add(key)
        fields = kind.fields(element)
        try:
            resolved = kind.resolve(element, refs)
            row = existing.get(
                tuple(
                    record.pk if (record := resolved[name]) is not None else None
                    for name in kind.reference_fields
                )
            )
            if row is not None:
                version_check(row, fields.version, kind.version_what(key))
        except ServiceError as error:
            outcomes.append((index, error))
            continue
        created = row is None
        if created:
            row = kind.model(
                tenant=tenant,
                segment=segment,
                mixins=fields.mixins,
                metadata_mixins=fields.metadata_mixins,
                created_at=now,
                modified_at=now,
                **kind.fixed(),
                **resolved,
            )
            to_create.append(row)
        else:
            apply_write(row, fields, now)
            for name, value in {**kind.fixed(), **resolved}.items():
                setattr(row, name, value)
            to_update.append(row)
        outcomes.append((index, UpsertOutcome(created=created, assignment=row)))
        event_type = kind.created_event if created else kind.updated_event
        events.append((event_type, kind.resource_id(segment, key), kind.payload(segment, row)))

    kind.model.objects.bulk_create(to_create)
    rows_update(to_update, list(kind.updated_columns))
    events_record(tenant=tenant, events=events)
    kind.written(tenant, segment, [*to_create, *to_update], [])
    return outcomes


def delete_batch(
    kind: AssignmentKind[Input, Key, Refs, Row],
    *,
    tenant: Tenant,
    segment: Segment,
    keys: Sequence[tuple[int, Key]],
) -> list[tuple[int, None | ServiceError]]:
    """Remove the keys' assignments of a locked segment; outcomes (None: removed) in order."""
    existing = kind.existing_for_delete(tenant, segment, {key for _, key in keys})
    outcomes: list[tuple[int, None | ServiceError]] = []
    seen: set[Key] = set()
    doomed: list[Row] = []
    events: list[Event] = []
    for index, key in keys:
        if key in seen:
            outcomes.append((index, duplicate_error(kind.duplicate_what(key))))
            continue
        seen.add(key)
        row = existing.get(key)
        if row is None:
            outcomes.append((index, kind.missing(segment, key)))
            continue
        doomed.append(row)
        events.append(
            (kind.deleted_event, kind.resource_id(segment, key), kind.payload(segment, row))
        )
        outcomes.append((index, None))
    if doomed:
        kind.model.objects.filter(tenant=tenant, pk__in=[row.pk for row in doomed]).delete()
    events_record(tenant=tenant, events=events)
    kind.written(tenant, segment, [], doomed)
    return outcomes
