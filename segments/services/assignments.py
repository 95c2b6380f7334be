"""What customer and item assignment writes share: the locked segment, versions, outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from segments.documents import metadata_document
from segments.exceptions import AlreadyExists, SegmentNotFound, VersionConflict
from segments.models import Segment, Versioned
from segmentservice.bulk import BulkItemResult
from segmentservice.exceptions import ServiceError
from tenants.models import Tenant

Row = TypeVar("Row", bound=Versioned)


@dataclass(frozen=True)
class UpsertOutcome(Generic[Row]):
    """What an upsert did: created a row (201) or updated one (204)."""

    created: bool
    assignment: Row


@dataclass
class WriteFields:
    """The writable part of an assignment: `{"mixins", "metadata": {"version", "mixins"}}`."""

    mixins: dict[str, Any] = field(default_factory=dict)
    metadata_mixins: dict[str, Any] = field(default_factory=dict)
    version: int | None = None


def segment_for_write(*, tenant: Tenant, segment_id: str) -> Segment:
    """The segment, locked until the transaction ends; raises SegmentNotFound.

    Every assignment write takes this lock first, so two writers of one segment's
    assignments never race to insert the same row nor lock its assignment rows in
    competing orders, and a forced delete of the segment waits for them (or they for it).
    """
    segment = (
        Segment.objects.select_for_update().filter(tenant=tenant, external_id=segment_id).first()
    )
    if segment is None:
        raise SegmentNotFound(
            f"The segment with id {segment_id} has not been found.", resource_id=segment_id
        )
    return segment


def version_check(row: Versioned, expected: int | None, what: str) -> None:
    """Raise VersionConflict when the client saw another version than the stored one."""
    if expected is not None and expected != row.version:
        raise VersionConflict(
            f"The resource you are attempting to access has changed: {what} is at version "
            f"{row.version}, not {expected}."
        )


def apply_write(row: Versioned, fields: WriteFields, now: datetime) -> None:
    """Replace the writable fields of an existing row and count a new version."""
    row.mixins = fields.mixins
    row.metadata_mixins = fields.metadata_mixins
    row.version += 1
    row.modified_at = now


def metadata_payload(row: Versioned) -> dict[str, Any]:
    """`metadata` for an event payload, as the API shows it."""
    return metadata_document(row)


def bulk_result(index: int, outcome: UpsertOutcome | ServiceError | None) -> BulkItemResult:
    """The 207 entry for one element: 201 created, 204 updated or deleted, or its error."""
    if isinstance(outcome, ServiceError):
        return BulkItemResult.failed(index=index, error=outcome)
    if isinstance(outcome, UpsertOutcome) and outcome.created:
        return BulkItemResult(index=index, code=201)
    return BulkItemResult(index=index, code=204)


def duplicate_error(what: str) -> AlreadyExists:
    """The 409 for an element that repeats an earlier element of the same batch."""
    sentence = what[:1].upper() + what[1:]
    return AlreadyExists(
        f"{sentence} appears more than once in this request; only the first counts."
    )
